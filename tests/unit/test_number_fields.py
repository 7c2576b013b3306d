"""Every numeric field of every form reads numbers through the one parser, in the user's language.

The forms are found by walking the rooms' form modules, so a new numeric field (or a WTForms
DecimalField, which renders ``type=number`` and reads only ``50.00``) cannot slip past.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from decimal import Decimal

import pytest
from flask_babel import refresh
from werkzeug.datastructures import MultiDict
from wtforms import DecimalField, DecimalRangeField, FloatField, Form, IntegerField, IntegerRangeField
from wtforms.fields.core import UnboundField

import engpass
from engpass.form_fields import NumberField

FOREIGN_NUMBER_FIELDS = (DecimalField, DecimalRangeField, FloatField, IntegerField, IntegerRangeField)


def _form_classes() -> list[type[Form]]:
    found = []
    for info in pkgutil.walk_packages(engpass.__path__, "engpass."):
        if not info.name.endswith(".forms"):
            continue
        module = importlib.import_module(info.name)
        found += [
            cls
            for _name, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Form) and cls.__module__ == module.__name__
        ]
    return found


def _number_fields() -> list[tuple[type[Form], str, UnboundField]]:
    fields = []
    for cls in _form_classes():
        for name, unbound in inspect.getmembers(cls, lambda member: isinstance(member, UnboundField)):
            if issubclass(unbound.field_class, NumberField):
                fields.append((cls, name, unbound))
    return fields


NUMBER_FIELDS = _number_fields()


def test_the_walk_finds_the_forms_and_no_field_reads_numbers_its_own_way():
    names = {f"{cls.__name__}.{name}" for cls, name, _unbound in NUMBER_FIELDS}
    assert {
        "OrganizationSettingsForm.default_hourly_rate",
        "BaselineForm.hours_per_week",
        "BaselineForm.direct_cost_per_week",
        "BaselineForm.kpi_baseline",
        "SolutionForm.one_off_cost",
        "MeasurementForm.cost_per_week",
        "StepForm.minutes",
    } <= names
    for cls in _form_classes():
        for name, unbound in inspect.getmembers(cls, lambda member: isinstance(member, UnboundField)):
            assert not issubclass(unbound.field_class, FOREIGN_NUMBER_FIELDS), f"{cls.__name__}.{name}"


def _bound(app, cls, name, typed: str, language: str):
    """The field ``name`` of a ``cls`` posted with ``typed`` by a visitor speaking ``language``, and its HTML."""
    with app.test_request_context(method="POST", headers={"Accept-Language": language}):
        refresh()
        field = cls(formdata=MultiDict({name: typed}))[name]
        return field, str(field())


IDS = [f"{cls.__name__}.{name}" for cls, name, _unbound in NUMBER_FIELDS]


@pytest.mark.parametrize(("cls", "name", "unbound"), NUMBER_FIELDS, ids=IDS)
def test_every_number_field_reads_german_english_and_refuses_the_ambiguous(app, cls, name, unbound):
    german, html = _bound(app, cls, name, "50,00", "de")
    assert german.data == Decimal(50) and not german.process_errors
    assert 'type="text"' in html and 'type="number"' not in html
    assert 'inputmode="decimal"' in html or 'inputmode="numeric"' in html

    grouped, _html = _bound(app, cls, name, "1.234,5", "de")
    assert grouped.data == Decimal("1234.5")

    english, _html = _bound(app, cls, name, "50.00", "en")
    assert english.data == Decimal(50) and not english.process_errors

    ambiguous, _html = _bound(app, cls, name, "1.234", "de")
    assert ambiguous.data is None
    assert ambiguous.process_errors == ["„1.234“ ist nicht eindeutig: meinen Sie 1234 oder 1,234?"]

    ambiguous, _html = _bound(app, cls, name, "1,234", "en")
    assert ambiguous.process_errors == ["“1,234” is ambiguous: do you mean 1234 or 1.234?"]
