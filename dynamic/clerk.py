"""`python -m dynamic.clerk …`, the command the offices' instructions name, runs the clerk's
client, which lives outside the app in the top-level package `clerk` (see its docstring)."""

if __name__ == "__main__":
    import sys

    from clerk import main

    sys.exit(main())
