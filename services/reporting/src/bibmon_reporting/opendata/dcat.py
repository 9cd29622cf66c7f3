"""DCAT-AP metadata (JSON-LD) of the open datasets, for harvesting by an open-data portal.

One `dcat:Catalog` holding one `dcat:Dataset` per closed survey (its latest version),
each with a `dcat:Distribution` per file (CSV, JSON, data dictionary). Every
distribution names its licence, media type and format (EU file-type vocabulary), its
size (`dcat:byteSize`) and an `spdx:checksum` (SHA-256). The `dcat:downloadURL` pins
the version (`?version=n`), so the checksum always matches what it serves; the
`dcat:accessURL` always serves the latest version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from bibmon_reporting.opendata.dataset import SurveyInfo
from bibmon_reporting.opendata.licence import Licence

CONTEXT: dict[str, str] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "spdx": "http://spdx.org/rdf/terms#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
_IANA = "https://www.iana.org/assignments/media-types/"
# (media type, EU file type, Dutch title) per file kind.
FILE_KINDS: dict[str, tuple[str, str, str]] = {
    "csv": ("text/csv", "CSV", "Gegevens als CSV"),
    "json": ("application/json", "JSON", "Gegevens als JSON"),
    "dictionary": ("application/json", "JSON", "Gegevenswoordenboek (JSON)"),
}
_PATHS = {"csv": "{id}.csv", "json": "{id}.json", "dictionary": "{id}/dictionary.json"}


@dataclass(frozen=True)
class Publisher:
    """Who publishes the datasets (KB) and where to ask about them."""

    name: str
    uri: str
    contact_email: str


@dataclass(frozen=True)
class PublishedFile:
    kind: str
    byte_size: int
    sha256: str


@dataclass(frozen=True)
class PublishedDataset:
    """One survey's latest published dataset version, as the catalogue lists it."""

    survey: SurveyInfo
    version: int
    issued: datetime
    modified: datetime
    row_count: int
    files: tuple[PublishedFile, ...]
    # The licence in force when this version was published.
    licence: Licence


def open_data_base(base_url: str) -> str:
    """The public root of the open-data endpoints."""
    return base_url.rstrip("/") + "/api/reporting/open-data"


def file_url(base_url: str, survey_id: UUID, kind: str, version: int | None = None) -> str:
    """Public URL of one file; with `version`, the URL of exactly that version."""
    url = f"{open_data_base(base_url)}/surveys/{_PATHS[kind].format(id=survey_id)}"
    return f"{url}?version={version}" if version is not None else url


def _literal(value: datetime) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _nl(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "nl"}


def dataset_node(
    published: PublishedDataset, *, base_url: str, publisher: Publisher
) -> dict[str, Any]:
    """The `dcat:Dataset` of one survey's dataset."""
    survey = published.survey
    licence = published.licence
    dataset_uri = f"{open_data_base(base_url)}/surveys/{survey.survey_id}"
    licence_node = {"@id": licence.url}
    distributions = []
    for f in published.files:
        media_type, file_type, title = FILE_KINDS[f.kind]
        distributions.append(
            {
                "@id": f"{dataset_uri}#{f.kind}",
                "@type": "dcat:Distribution",
                "dct:title": _nl(title),
                "dcat:accessURL": {"@id": file_url(base_url, survey.survey_id, f.kind)},
                "dcat:downloadURL": {
                    "@id": file_url(base_url, survey.survey_id, f.kind, published.version)
                },
                "dcat:mediaType": {"@id": _IANA + media_type},
                "dct:format": {"@id": _FILE_TYPE + file_type},
                "dct:license": licence_node,
                "dcat:byteSize": {"@value": str(f.byte_size), "@type": "xsd:nonNegativeInteger"},
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                    "spdx:checksumValue": {"@value": f.sha256, "@type": "xsd:hexBinary"},
                },
                "dct:issued": _literal(published.modified),
            }
        )
    series = f" (reeks {survey.series_key})" if survey.series_key else ""
    return {
        "@id": dataset_uri,
        "@type": "dcat:Dataset",
        "dct:identifier": str(survey.survey_id),
        "dct:title": _nl(f"Bibliotheekmonitor: {survey.title}"),
        "dct:description": _nl(
            f"Antwoorden van {published.row_count} openbare bibliotheekorganisaties op de "
            f"vragenlijst '{survey.title}' ({survey.year}){series}, op het niveau van de "
            "organisatie. Alleen vragen die voor publicatie zijn aangemerkt; geen "
            "persoonsgegevens."
        ),
        "dcat:keyword": [_nl("bibliotheken"), _nl("openbare bibliotheek"), _nl("Wsob")],
        "dct:publisher": {
            "@id": publisher.uri,
            "@type": "foaf:Agent",
            "foaf:name": publisher.name,
        },
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": publisher.name,
            "vcard:hasEmail": {"@id": f"mailto:{publisher.contact_email}"},
        },
        "dct:license": licence_node,
        "dct:accessRights": {
            "@id": "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
        },
        "dcat:theme": {"@id": "http://publications.europa.eu/resource/authority/data-theme/EDUC"},
        "dct:issued": _literal(published.issued),
        "dct:modified": _literal(published.modified),
        "owl:versionInfo": str(published.version),
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/NLD"},
        "dcat:distribution": distributions,
    }


def catalog(
    datasets: Sequence[PublishedDataset],
    *,
    base_url: str,
    publisher: Publisher,
) -> dict[str, Any]:
    """The DCAT-AP catalogue of every published dataset, as a JSON-LD document."""
    return {
        "@context": CONTEXT,
        "@id": f"{open_data_base(base_url)}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _nl("Bibliotheekmonitor — open data"),
        "dct:description": _nl(
            "Open data van de Bibliotheekmonitor van de KB: de antwoorden van openbare "
            "bibliotheekorganisaties op gesloten vragenlijsten, per organisatie."
        ),
        "dct:publisher": {"@id": publisher.uri, "@type": "foaf:Agent", "foaf:name": publisher.name},
        "dcat:dataset": [dataset_node(d, base_url=base_url, publisher=publisher) for d in datasets],
    }
