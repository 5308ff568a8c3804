"""The index on disk: the schema and its field names, generations published atomically,
the segment writer, and the posting arrays beside each segment."""
