"""Store contract, the files a store owns (``Store.files``): absolute paths, the data file
first and existing once something is written, so that an export never writes over them.
Mixed into ``StoreContract``."""

from __future__ import annotations

import os

from ..store.base import Store

__all__ = ["FilesContract"]


class FilesContract:
    """``Store.files``; the ``store`` fixture comes from ``StoreContract``."""

    def test_files_are_absolute_and_the_data_file_exists(self, store: Store) -> None:
        from .store_contract import make_record

        store.insert(make_record("cus_files", 1))
        files = store.files()
        assert all(os.path.isabs(path) for path in files)
        assert len(set(files)) == len(files)
        if files:
            assert os.path.isfile(files[0])
