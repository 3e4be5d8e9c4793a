"""Readers and mappings for porting third-party weights."""
