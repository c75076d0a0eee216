"""The public surface is deliberate; docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import customer_core


def test_exported_members() -> None:
    assert customer_core.__all__ == sorted(customer_core.__all__)
    for name in customer_core.__all__:
        assert hasattr(customer_core, name), name
    for name in ("CustomerService", "MemoryStore", "Customer", "DeletedCustomer", "ListPage"):
        assert name in customer_core.__all__
    # What a subscriber's callback takes, and the retry schedule of webhook deliveries.
    for name in ("Event", "RetryPolicy"):
        assert name in customer_core.__all__
    from customer_core.errors import CustomerCoreError, InvalidRequestError

    assert issubclass(InvalidRequestError, CustomerCoreError)


MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(customer_core.__path__, "customer_core.")
    if not info.name.endswith("store_contract")
)


@pytest.mark.parametrize("name", ["customer_core", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_the_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("customer_core").joinpath("py.typed").is_file()
