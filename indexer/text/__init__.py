"""Vietnamese text: normalisation, syllables and spelling, keystroke decoding, word
segmentation (pyvi's CRF), analysis into index terms, acronyms.  Imports nothing else
of the project."""
