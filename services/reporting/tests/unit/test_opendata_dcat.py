"""The DCAT-AP catalogue, read back as RDF the way a harvesting portal reads it."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib import namespace as ns

from bibmon_demo.data import DEMO_QUESTIONNAIRE, demo_answers
from bibmon_reporting.opendata.dataset import (
    CountedAnswers,
    OrganisationInfo,
    SurveyInfo,
    build_dataset,
    render_files,
    sha256_hex,
)
from bibmon_reporting.opendata.dcat import (
    PublishedDataset,
    PublishedFile,
    Publisher,
    catalog,
    file_url,
)
from bibmon_reporting.opendata.licence import LICENCES

# rdflib's JSON-LD parser still builds a ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph:DeprecationWarning")

SPDX = Namespace("http://spdx.org/rdf/terms#")
BASE = "https://bibliotheekmonitor.example.nl"
KB = Publisher("KB, nationale bibliotheek", "https://www.kb.nl/", "bibliotheekmonitor@kb.nl")
ISSUED = datetime(2026, 3, 1, 12, tzinfo=UTC)
MODIFIED = datetime(2026, 4, 2, 9, tzinfo=UTC)


def _published(licence_id: str = "CC0-1.0") -> tuple[PublishedDataset, dict[str, bytes]]:
    survey = SurveyInfo(uuid.UUID(int=5), "Wsob-gegevenslevering 2025", "wsob-jaarlijks", 2025)
    org = OrganisationInfo(uuid.UUID(int=7), "Bibliotheek Aa", "Utrecht", ("Utrecht",), "groot")
    dataset = build_dataset(
        survey,
        {1: DEMO_QUESTIONNAIRE},
        {org.organisation_id: org},
        [CountedAnswers(org.organisation_id, 1, demo_answers(org.organisation_id, 2025))],
    )
    licence = LICENCES[licence_id]
    files = render_files(dataset, version=2, published_at=MODIFIED, licence=licence)
    contents = dict(files.items())
    published = PublishedDataset(
        survey=survey,
        version=2,
        issued=ISSUED,
        modified=MODIFIED,
        row_count=files.row_count,
        files=tuple(PublishedFile(k, len(c), sha256_hex(c)) for k, c in contents.items()),
        licence=licence,
    )
    return published, contents


def _graph(document: dict[str, object]) -> Graph:
    return Graph().parse(data=json.dumps(document), format="json-ld")


def test_the_catalogue_is_json_ld_with_one_dataset_and_a_distribution_per_file() -> None:
    published, contents = _published()
    graph = _graph(catalog([published], base_url=BASE, publisher=KB))
    datasets = list(graph.subjects(ns.RDF.type, ns.DCAT.Dataset))
    assert len(datasets) == 1
    dataset = datasets[0]
    catalogue = next(graph.subjects(ns.RDF.type, ns.DCAT.Catalog))
    assert (catalogue, ns.DCAT.dataset, dataset) in graph
    distributions = list(graph.objects(dataset, ns.DCAT.distribution))
    assert len(distributions) == 3
    by_download = {str(graph.value(d, ns.DCAT.downloadURL)): d for d in distributions}
    for kind, content in contents.items():
        url = file_url(BASE, published.survey.survey_id, kind, version=2)
        assert url.endswith("?version=2")
        dist = by_download[url]
        assert (dist, ns.RDF.type, ns.DCAT.Distribution) in graph
        assert int(graph.value(dist, ns.DCAT.byteSize)) == len(content)
        checksum = graph.value(dist, SPDX.checksum)
        assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(graph.value(checksum, SPDX.checksumValue)) == hashlib.sha256(content).hexdigest()
        assert graph.value(dist, ns.DCTERMS.license) == URIRef(
            "http://creativecommons.org/publicdomain/zero/1.0/"
        )
        assert graph.value(dist, ns.DCAT.accessURL) == URIRef(
            file_url(BASE, published.survey.survey_id, kind)
        )


def test_the_dataset_names_publisher_licence_and_dates() -> None:
    published, _ = _published("CC-BY-4.0")
    graph = _graph(catalog([published], base_url=BASE, publisher=KB))
    dataset = next(graph.subjects(ns.RDF.type, ns.DCAT.Dataset))
    assert graph.value(dataset, ns.DCTERMS.license) == URIRef(
        "http://creativecommons.org/licenses/by/4.0/"
    )
    publisher = graph.value(dataset, ns.DCTERMS.publisher)
    assert publisher == URIRef("https://www.kb.nl/")
    assert graph.value(publisher, ns.FOAF.name) == Literal("KB, nationale bibliotheek")
    assert graph.value(dataset, ns.DCTERMS.issued) == Literal(
        ISSUED.isoformat(), datatype=ns.XSD.dateTime
    )
    assert graph.value(dataset, ns.DCTERMS.modified) == Literal(
        MODIFIED.isoformat(), datatype=ns.XSD.dateTime
    )
    assert graph.value(dataset, ns.DCTERMS.identifier) == Literal(str(published.survey.survey_id))
    title = graph.value(dataset, ns.DCTERMS.title)
    assert title is not None
    assert "Wsob-gegevenslevering 2025" in str(title)
    assert graph.value(dataset, ns.DCTERMS.description) is not None
    assert graph.value(dataset, ns.DCAT.theme) == URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/EDUC"
    )
    assert graph.value(dataset, ns.DCTERMS.accessRights) == URIRef(
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
    )
    contact = graph.value(dataset, ns.DCAT.contactPoint)
    assert contact is not None


def test_an_empty_catalogue_is_still_a_catalogue() -> None:
    graph = _graph(catalog([], base_url=BASE, publisher=KB))
    assert len(list(graph.subjects(ns.RDF.type, ns.DCAT.Catalog))) == 1
    assert list(graph.subjects(ns.RDF.type, ns.DCAT.Dataset)) == []
