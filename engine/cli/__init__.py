"""cli: the typer app. Parsing and printing only; heavy imports inside command bodies so --help stays fast."""
