"""`python -m bot` is the same as the `quorum` command."""

from bot.cli import main

main()
