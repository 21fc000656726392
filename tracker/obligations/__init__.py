"""Obligations: the catalog shipped as data, citations that resolve to it, and the mapping of
diff hunks to the obligations they affect."""
