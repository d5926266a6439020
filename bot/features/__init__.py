"""Features: the glue between the store and the pure core, one module each."""
