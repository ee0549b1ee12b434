"""Released migrations whose comments alone were reworded afterwards (pure).

A migration is never edited once released: ``ingest migrate`` and the service refuse a database
whose applied migration's file differs from the one applied (its SHA-256 is recorded in
``triage.schema_migrations``). Comments do not change what a migration does, though, and the
header comments of these files cited ticket numbers instead of their reasons. They were
reworded; each is listed here with the checksum of the file as released (what databases have
recorded) and the checksum of its statements (the file without comment or blank lines), which
must still be what the file holds: a database that recorded the released checksum accepts the
reworded file only while its statements are unchanged.
"""

from __future__ import annotations

import hashlib

# version -> (SHA-256 of the file as released, SHA-256 of its statements)
REWORDED: dict[int, tuple[str, str]] = {
    10: (
        "7cb989c92bf2029ea08a37caa914435424f94f72245a8f7742c8399a114f1f9d",
        "3ec50c76ebd9eb11a0b0d91e517464ff89eaa79e48448bd5fd03ab0e1a4d43d2",
    ),
    20: (
        "6a61fd7e6cdf5d5a22e6e7f293753956b54fcbf9b81be0a031ebe8ba981ac661",
        "54db84367f6fe73125d0b63026d940c97ac63fe4f50adab6a175f56c533261e3",
    ),
    21: (
        "d974730224b84d0bd84b520b4db9f36139059be174a09b818093d682bfb7a4a1",
        "b1ae9b7a407cf274d8f24aeb483dc54663273baf75af0aac4a2630aaacea3b9e",
    ),
    22: (
        "ed24b6bec6820ccc0457085e327c391e752bbe2b35da5026c2448f080ea45ce8",
        "8e4136f9d675d80be6eaef8226e070c8da47cc4cf1e945442bd62379c2dbd704",
    ),
    30: (
        "042c5837ba2a4630160200952e5f86ddad050101aedb9f07483dd0dc9b08d2f0",
        "106494df6ffcdf4175b5b1e65a0e301002ff9cba916c0e656e90177e7d99938f",
    ),
    31: (
        "510db3449a9926380b300693858de1b79af151463d204744f188ecf5863efab7",
        "c8caec8a7ec93587c03644159b360cb9cac2d8f05226ae23e8e445e2dd7e9ee0",
    ),
    32: (
        "728de5d4b5ee91357297214ac570aefb017558ee9b5d56911e011f579aa13f7d",
        "27409b304322ec412df4ef5790acc73691ad187a0f8d56fcfa70c77d2140ceba",
    ),
    33: (
        "4d2db193d2729ca4f8594307b0f0df7c78b69cffb3fac10c8fceba4746bf5f45",
        "f148573421e12c71c38e17f0b2b1260a7a75a09ab35c1babdefc05268580a296",
    ),
    40: (
        "bc0e0a59a7ab515e9b82b5b5e16713d8cd769d2cda5da0bcb9f5162615f73b22",
        "2a5bf6c4008af3942404d6cacdd6ff391652f1a86ef9e94c11a553d74fe41e0d",
    ),
    41: (
        "6b5f5dec161e89a7e8b5643107e9bbc30222e4f48f34699a2f7b9bf439229e08",
        "ade8686e12e77cfbf366e91b002577fa210ebd30f1dd3de982ea459b873ce5ff",
    ),
    42: (
        "bb64b56be6005e2125d98b7908d15b8769086c99127ca06dd0dc5bafce45607f",
        "d8b32b5ade825b51147c8d375d28a75ca24c9482d14825b4bd849ae921573b47",
    ),
    43: (
        "fdbd2d675530ff873246d2608314a77f59bd47cc818ecfb189f42a58edafabf0",
        "0f9e7ef4cbb0b929b4204b8ba2cb5d4c51a27ae528129320234b5f9551a1502c",
    ),
    50: (
        "0b77cf956bb10cb2eda3dc4d79e8cb413aef4b3796d6ba4826568cedaeadf390",
        "464911477ae5cfe274e0c798eedd3271f66a25546e2e620c3ec1a422f74ce17a",
    ),
    51: (
        "8d40e1538910a872819d28af221ea839dc3b686b7a55195352987dcda7281b88",
        "fc3b9797b25926b8595beb2d376f75a8c42142b8a9dcfc6301f8c0d68b58622b",
    ),
    55: (
        "bfd09a54eddbd987c319175583e71f411ceb58f3e6da53f0904337c38a1bece9",
        "99e4dbb96f093bc14868460b21cc230c4644e04eac04ec8c4c0dfad1c77b9b54",
    ),
    60: (
        "7b4e0988b1274168a69fe618d874063f9e7b54ebab1a4adedb11ed4d49d52adb",
        "9cc6be98ede62f064f36b7861562d0c0b57b379cd7fcdffa4c5ec0dfceadcd47",
    ),
    61: (
        "7ed965b7777eacb59d958834075ad680e060aa727ebe765ea61bfe06541ff6c2",
        "2359da853d81132bfb598f5b3cb7114af8c9f871e7bf057b60230bf853a051b6",
    ),
    62: (
        "6a8819ed6a6ec2c9f2a21ca52b10915806589301f0f168107442ee14310a7f2b",
        "35ae8429c2c5745c364562d4d78f5c5ac515859b2d05459ae289e7a73c580b70",
    ),
    63: (
        "bfabd14d438d79098054b0eadfe24446e767261c2cb1bf4fd2cabcf3b4b3e76a",
        "1e74583be7a2a3ccdf2cf9023799dec6e594d671418ef319f4adaf0fe2e6a589",
    ),
    64: (
        "a8728027181ead8091ab9bd3f774c6379273556e27b3e3153ce4f36a97525ba4",
        "02f81c5b41406fdf5fd733dbb0385cbe523ad7d2cc21165f5bb47eca7c7d5014",
    ),
    65: (
        "aafb6e6c3b9602c47e5d325d8b716d5b24c11806a2fd3b6acd6aa1313f9ef6ea",
        "8fc0ac1a385bdfd62e8a3c70c596e658fcb858a9652cd9e0e0072cce21af5c76",
    ),
    66: (
        "25dab984e0a66ed0a303f675bb1f06de71d6ad7b57d49a04850c13a4b2ab1caf",
        "c60dc3881781df6d27f8977cac011f9124b91e50fbae0ab7137877e40032d592",
    ),
}


def statements_checksum(sql: str) -> str:
    """SHA-256 of a migration's statements: its lines but blank and ``--`` comment lines."""
    kept = (line for line in sql.splitlines() if line.strip() and not line.strip().startswith("--"))
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()


def released_as(version: int, recorded: str, sql: str) -> bool:
    """Whether ``recorded`` is the released checksum of a migration whose comments alone were
    reworded since, and ``sql`` (the file now shipped) still holds the same statements."""
    entry = REWORDED.get(version)
    return entry is not None and entry[0] == recorded and entry[1] == statements_checksum(sql)
