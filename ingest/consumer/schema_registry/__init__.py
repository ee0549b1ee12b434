"""The consumer's side of a Confluent-compatible schema registry: ``client`` (the HTTP edge:
cached, concurrent, bounded lookups), ``released`` (which registry schemas are released
versions of the contract's, pure), ``holds`` (which records wait for a lookup, pure) and
``gate`` (holding and releasing partitions while the registry answers)."""
