"""Publishing: a release as a Hugging Face dataset (export, card, Croissant, upload, load)."""
