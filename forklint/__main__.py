"""`python -m forklint`."""

from forklint.cli import main

main()
