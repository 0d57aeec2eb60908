"""`python -m uwvcli`: the same command line as the `uwvcli` script."""

from uwvcli.cli import main

main()
