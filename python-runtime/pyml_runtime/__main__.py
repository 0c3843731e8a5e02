"""`python -m pyml_runtime ...`: the same CLI as the `pyml-runtime` command."""

from pyml_runtime.cli import main

main()
