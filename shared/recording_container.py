"""The Blob container recordings land in (bring-your-own-storage): created at startup when it is missing."""

from __future__ import annotations

import logging
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError

logger = logging.getLogger(__name__)


def shared_key(connection_string: str) -> dict[str, str] | None:
    """{"account_name", "account_key"} of a storage connection string, for a client built from a container URL."""
    parts = dict(item.split("=", 1) for item in connection_string.split(";") if "=" in item)
    if "AccountName" not in parts or "AccountKey" not in parts:
        return None
    return {"account_name": parts["AccountName"], "account_key": parts["AccountKey"]}


async def ensure_container(container_url: str, credential: Any) -> None:
    """Create the container unless it exists. ACS drops a recording whose container is missing, silently."""
    from azure.storage.blob.aio import ContainerClient

    async with ContainerClient.from_container_url(container_url, credential=credential) as container:
        try:
            await container.create_container()
        except ResourceExistsError:
            return
        except HttpResponseError as exc:
            # In Azure the infrastructure creates the container; an identity that may write blobs but not create
            # containers gets 403 here, which is fine as long as the container exists.
            logger.warning("Could not create the recording container %s (%s); it must exist", container_url, exc.reason)
            return
    logger.info("Created the recording container %s", container_url)
