# Copied verbatim from generator/runtime/__init__.py by generator/generate.py. Do not edit here.
"""Hand-written runtime of sinch_calling: signing, retries, errors, hosts and the request core."""
