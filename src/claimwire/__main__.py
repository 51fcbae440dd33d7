"""``python -m claimwire`` runs the command line."""

from claimwire.cli import main

main()
