"""`python -m heron.cli`: the same as the `heron` command."""

from heron.cli.main import main

if __name__ == "__main__":
    main()
