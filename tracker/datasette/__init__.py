"""Datasette for the history database: the shipped metadata (descriptions and canned queries),
the plugin that gives Datasette regwatch's SQL functions, and `regwatch serve`."""
