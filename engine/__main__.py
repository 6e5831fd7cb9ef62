"""`python -m engine` is `snapplan`."""
from engine.cli.app import main

main()
