"""The toolkit's core: interfaces, spec records, configuration and the algorithms."""
