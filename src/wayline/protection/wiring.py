"""What the settings choose for data protection: the KEK provider and the store's codec."""

from __future__ import annotations

import os

from wayline.config import Settings
from wayline.protection.keys import DataKeys
from wayline.protection.providers import KeyProvider, provider_from_setting


def key_provider(settings: Settings) -> KeyProvider | None:
    """The provider WAYLINE_KEY_PROVIDER names; None when it is `none`."""
    if settings.key_provider == "none":
        return None
    secure_folder(settings.home)
    provider: KeyProvider = provider_from_setting(
        settings.key_provider, settings.home, settings.kms_endpoint_url
    )
    return provider


def data_keys(settings: Settings) -> DataKeys | None:
    provider = key_provider(settings)
    if provider is None:
        return None
    return DataKeys(provider, settings.key_cache_size, settings.key_cache_seconds)


def private_files(home: os.PathLike[str] | str) -> None:
    """From now on everything this process creates is its user's alone (umask 077: files
    0600, folders 0700): the database file and its journal, the keyring, uploads, stored
    files; and the data folder itself is made 0700."""
    os.umask(0o077)
    secure_folder(home)


def secure_folder(path: os.PathLike[str] | str) -> None:
    """Make a folder Wayline writes to (0700): only Wayline's own user may enter it."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
