"""Hand-written runtime of sinch_calling: signing, retries, errors, hosts and the request core."""
