import socket

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from devhost.azurite import free_ports


def test_azurite_serves_tables_and_blobs(storage_connection_string: str) -> None:
    tables = TableServiceClient.from_connection_string(storage_connection_string)
    table = tables.create_table_if_not_exists("smoke")
    table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "value": 42})
    assert table.get_entity("p", "r")["value"] == 42

    blobs = BlobServiceClient.from_connection_string(storage_connection_string)
    container = blobs.get_container_client("smoke")
    if not container.exists():
        container.create_container()
    container.upload_blob("hello.txt", b"hello", overwrite=True)
    assert container.download_blob("hello.txt").readall() == b"hello"


def test_free_ports_are_distinct_and_free() -> None:
    ports = free_ports(20)
    assert len(set(ports)) == 20
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
