"""Release tools: the version gate (check_breaking) and the release pipeline (release); see the Makefile."""
