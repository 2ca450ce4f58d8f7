"""/fhir — FHIR R4: `POST /fhir` (transaction Bundle) and read/search of our record, errors as OperationOutcome.

Callers: integration clients (bearer token, or signed like a webhook) and signed-in staff (read/search)."""
from __future__ import annotations

import json

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import check_roles, require_principal
from app.auth.principal import current_principal
from app.core import ratelimit
from app.core.errors import DomainError
from app.webhooks.signature import verify

from . import search, transaction
from .outcome import CONTENT_TYPE, from_domain
from .resources import searchset

blp = Blueprint("fhir", __name__, url_prefix="/fhir", description="FHIR R4 (transaction Bundle; read/search)")
READERS = ("county_specialist", "county_admin", "township_doctor", "township_public_health", "village_doctor",
           "pharmacist", "supervisor", "integration")


def fhir_response(body, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE,
                    headers=headers or {})


@blp.errorhandler(DomainError)
def _operation_outcome(exc: DomainError):
    return fhir_response(from_domain(exc), exc.status)


def _reader():
    principal = require_principal()
    check_roles(principal, *READERS)
    return principal


def _bundle(resources):
    return fhir_response(searchset(resources, request.host_url.rstrip("/") + "/fhir"))


@blp.route("")
class Transaction(MethodView):
    @blp.doc(requestBody={"content": {CONTENT_TYPE: {"schema": {"type": "object"}}}},
             responses={"200": {"description": "transaction-response Bundle"},
                        "400": {"description": "OperationOutcome: not a valid R4 transaction Bundle"},
                        "422": {"description": "OperationOutcome: bad reference, wrong type, unknown code"}})
    def post(self):
        """Apply a transaction Bundle (Patient, Encounter, Condition, Observation, MedicationRequest, referral
        ServiceRequest) all or nothing."""
        body = request.get_data(cache=True)
        principal = current_principal()
        if principal is None:
            caller = verify(request.headers, body)
            principal, client_id = caller.principal, caller.client_id
        else:
            check_roles(principal, "integration")
            client_id = principal.username
        ratelimit.check(client_id)
        outcome = transaction.receive(body, client_id=client_id, principal=principal)
        return fhir_response(outcome.body, outcome.http_status, outcome.headers)


@blp.route("/metadata")
class Metadata(MethodView):
    def get(self):
        """The CapabilityStatement: what this server reads, searches and accepts."""
        types = {"Patient": ["identifier", "_id"], "Observation": ["patient", "code"], "Condition": ["patient"],
                 "MedicationRequest": ["patient"], "Encounter": ["patient"], "CarePlan": ["patient"],
                 "ServiceRequest": ["patient"], "Task": ["patient", "status"]}
        return fhir_response({
            "resourceType": "CapabilityStatement", "status": "active", "date": "2026-03-01", "kind": "instance",
            "fhirVersion": "4.0.1", "format": ["json"],
            "rest": [{"mode": "server", "interaction": [{"code": "transaction"}],
                      "resource": [{"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
                                    "searchParam": [{"name": p, "type": "token" if p != "patient" else "reference"}
                                                    for p in params]} for t, params in types.items()]}]})


@blp.route("/Patient/<string:patient_id>")
class PatientRead(MethodView):
    @phi_read("fhir_patient", roles=READERS, audit=False)
    def get(self, patient_id):
        """Read one Patient (full ID number; the read is audited)."""
        return fhir_response(search.read_patient(_reader(), patient_id))


@blp.route("/Patient")
class PatientSearch(MethodView):
    @phi_read("fhir_patient_search", roles=READERS)
    def get(self):
        """Search Patients by `identifier=system|value` (ID card or resident id) or `_id`."""
        return _bundle(search.search_patients(_reader(), request.args.get("identifier"), request.args.get("_id")))


@blp.route("/Observation")
class ObservationSearch(MethodView):
    @phi_read("fhir_observation", roles=READERS)
    def get(self):
        """Search a patient's Observations (`patient`, optional `code` as LOINC or `http://loinc.org|code`)."""
        return _bundle(search.observations(_reader(), request.args.get("patient"), request.args.get("code")))


@blp.route("/Condition")
class ConditionSearch(MethodView):
    @phi_read("fhir_condition", roles=READERS)
    def get(self):
        """Search a patient's Conditions (ICD-10)."""
        return _bundle(search.conditions(_reader(), request.args.get("patient")))


@blp.route("/MedicationRequest")
class MedicationRequestSearch(MethodView):
    @phi_read("fhir_medication_request", roles=READERS)
    def get(self):
        """Search a patient's medications as MedicationRequests."""
        return _bundle(search.medication_requests(_reader(), request.args.get("patient")))


@blp.route("/Encounter")
class EncounterSearch(MethodView):
    @phi_read("fhir_encounter", roles=READERS)
    def get(self):
        """Search a patient's Encounters."""
        return _bundle(search.encounters(_reader(), request.args.get("patient")))


@blp.route("/CarePlan")
class CarePlanSearch(MethodView):
    @phi_read("fhir_care_plan", roles=READERS)
    def get(self):
        """Search a patient's care plans."""
        return _bundle(search.care_plans(_reader(), request.args.get("patient")))


@blp.route("/ServiceRequest")
class ServiceRequestSearch(MethodView):
    @phi_read("fhir_service_request", roles=READERS)
    def get(self):
        """Search a patient's referrals as ServiceRequests."""
        return _bundle(search.service_requests(_reader(), request.args.get("patient")))


@blp.route("/Task")
class TaskSearch(MethodView):
    @phi_read("fhir_task", roles=READERS)
    def get(self):
        """Search the human tasks about a patient that the caller may see."""
        return _bundle(search.tasks(_reader(), request.args.get("patient"), request.args.get("status")))
