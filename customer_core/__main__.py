"""``python -m customer_core``: the ``customer-core`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
