"""Searching an index: parse, plan, evaluate over the posting arrays, collect, rescore,
highlight, suggest; ``engine.Index`` composes them."""
