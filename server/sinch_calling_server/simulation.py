"""The simulated Calling API: behaviour only, one handler per operationId.

Routing, authentication and validation happened before a handler runs (see pipeline.py);
a handler reads and writes the store and returns the JSON body of the success response
(or None for an empty one), or raises ApiError. Time comes from an injectable clock, and
a call's state is a pure function of its stored facts and the current time, so tests are
deterministic: see data/calls.yaml for the lifecycle.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from . import errors
from .callflow import CallFlow
from .calls import call_state, debit
from .clock import Clock, iso
from .errors import ApiError
from .jobs import JobQueue
from .messages import Reply, Request
from .spec import Validator
from .store import Document, Store

__all__ = ["Fixtures", "Simulation", "load_fixtures"]

Handler = Callable[[Request], Any]

# The actions PATCH /calls/id may carry (Sinch's reference: svaml.action.patch); every instruction
# is allowed there, and the action may be left out (spec/DECISIONS.md).
PATCH_ACTIONS = frozenset({"hangup", "continue", "park"})

_NUMBER_TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "Fixed",
    phonenumbers.PhoneNumberType.MOBILE: "Mobile",
    # Ambiguous (US/CA numbers): Sinch reports these as fixed lines.
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "Fixed",
    phonenumbers.PhoneNumberType.UNKNOWN: "Unknown",
}
_TYPE_NAMES = {value: name for name, value in vars(phonenumbers.PhoneNumberType).items() if isinstance(value, int)}


@functools.lru_cache(maxsize=4096)
def _classify_destination(endpoint: str) -> tuple[str | None, str]:
    """(country, number type) of a callout's destination; cached, since parsing dominates a callout."""
    try:
        parsed = phonenumbers.parse(endpoint if endpoint.startswith("+") else "+" + endpoint, None)
    except phonenumbers.NumberParseException:
        return None, "Unknown"
    return phonenumbers.region_code_for_number(parsed), _NUMBER_TYPES.get(phonenumbers.number_type(parsed), "Other")


def _connected_number(ice: object) -> dict[str, str] | None:
    """A custom callout without ``destination``: the number its inline ICE SVAML connects to."""
    if not isinstance(ice, str) or not ice.lstrip().startswith("{"):
        return None
    try:
        action = json.loads(ice).get("action") or {}
    except (ValueError, AttributeError, RecursionError):
        return None
    number = action.get("number") if isinstance(action, dict) and action.get("name") == "connectPstn" else None
    return {"type": "number", "endpoint": number} if isinstance(number, str) and number else None


@dataclass
class Fixtures:
    numbers: list[dict[str, Any]]
    known_applications: list[str]
    rates: dict[str, Any]
    lifecycle: dict[str, Any]
    outcomes: dict[str, dict[str, str]] = field(default_factory=dict)


def _read_yaml(directory: Path | None, name: str) -> dict[str, Any]:
    if directory is not None and (directory / name).is_file():
        return _parse_yaml((directory / name).read_text(encoding="utf-8"), name)
    return copy.deepcopy(_packaged(name))  # a copy: the caller may change what it gets


@functools.cache
def _packaged(name: str) -> dict[str, Any]:
    """A packaged data file, parsed once per process (a test suite builds many servers)."""
    return _parse_yaml((resources.files("sinch_calling_server") / "data" / name).read_text(encoding="utf-8"), name)


def _parse_yaml(text: str, name: str) -> dict[str, Any]:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"fixture {name} must be a mapping")
    return data


def load_fixtures(directory: str | Path | None = None) -> Fixtures:
    """The packaged data files, each replaced by a file of the same name in ``directory``."""
    folder = Path(directory) if directory is not None else None
    numbers = _read_yaml(folder, "numbers.yaml")
    rates = _read_yaml(folder, "rates.yaml")
    calls = _read_yaml(folder, "calls.yaml")
    outcomes = {str(k): dict(v) for k, v in (calls.pop("outcomes", None) or {}).items()}
    return Fixtures(
        numbers=list(numbers.get("numbers") or []),
        known_applications=[str(k) for k in numbers.get("known_applications") or []],
        rates=rates,
        lifecycle=calls,
        outcomes=outcomes,
    )


# What a scripted callee does (``/_sinch/callees``): not answer, or answer as a machine or a person.
CALLEES: Mapping[str, Mapping[str, Any]] = {
    "busy": {"result": "BUSY", "reason": "N/A"},
    "noanswer": {"result": "NOANSWER", "reason": "TIMEOUT"},
    "failed": {"result": "FAILED", "reason": "GENERALERROR"},
    "machine": {"amd": {"status": "machine", "reason": "beep", "duration": 3}},
    "human": {"amd": {"status": "human", "reason": "n/a", "duration": 1}},
}


def new_call_id() -> str:
    """32 hex digits of a version-4 UUID, like the seed's call ids.

    Drawn from ``random`` (seeded from the OS, reseeded in every forked worker): ids must be
    unique, not secret, and ``os.urandom``'s system call cost a callout several microseconds.
    """
    value = random.getrandbits(128) & ~(0xC000 << 48 | 0xF000 << 64) | (0x8000 << 48 | 0x4000 << 64)
    return f"{value:032x}"


class Simulation:
    """The default backend: a stateful, deterministic imitation of the Calling API."""

    def __init__(
        self,
        store: Store,
        fixtures: Fixtures,
        clock: Clock,
        application_keys: Iterable[str],
        id_factory: Callable[[], str] | None = None,
        *,
        jobs: JobQueue | None = None,
        schemas: Mapping[str, Validator] | None = None,
    ) -> None:
        self.store = store
        self.fixtures = fixtures
        self.clock = clock
        self.new_id = id_factory or new_call_id
        self.application_keys = set(application_keys) | set(fixtures.known_applications)
        life = fixtures.lifecycle
        self.ring_seconds = float(life.get("ring_seconds", 2))
        self.tts_base = float(life.get("tts_base_seconds", 2))
        self.tts_rate = max(float(life.get("tts_chars_per_second", 15)), 1.0)
        self.default_max_duration = float(life.get("default_max_duration", 14400))
        self.menu_seconds = float(life.get("menu_seconds", 2))
        # The calls' callbacks (callflow.py), scheduled on ``jobs``; none without a job queue.
        self.flow = CallFlow(self, jobs, schemas or {}) if jobs is not None else None
        self.handlers: dict[str, Handler] = {
            "getNumbers": self.get_numbers,
            "updateNumbers": self.update_numbers,
            "unassignNumber": self.unassign_number,
            "getCallbacks": self.get_callbacks,
            "updateCallbacks": self.update_callbacks,
            "queryNumber": self.query_number,
            "getCallResult": self.get_call_result,
            "manageCall": self.manage_call,
            "manageCallLeg": self.manage_call,
            "getConferenceInfo": self.get_conference_info,
            "kickConferenceAll": self.kick_conference_all,
            "manageConferenceParticipant": self.manage_participant,
            "kickConferenceParticipant": self.kick_participant,
            "callout": self.callout,
        }
        self._seed()

    # -- plumbing ---------------------------------------------------------------------

    def _seed(self) -> None:
        with self.store.transaction():
            if self.store.get("meta", "seeded") is not None:
                return
            for item in self.fixtures.numbers:
                number = str(item["number"])
                assigned = item.get("assigned") or {}
                caps = {str(c): assigned.get(c) for c in item.get("capabilities") or ["voice"]}
                self.store.put("numbers", number, {"number": number, "capabilities": caps})
            self.store.put("meta", "seeded", {"at": iso(self.clock())})

    def handle(self, request: Request) -> Reply:
        handler = self.handlers.get(request.operation.operation_id)
        if handler is None:
            raise ApiError(404, errors.NOT_FOUND, "Operation is not simulated")
        if request.method in ("GET", "HEAD"):
            body = handler(request)
        else:
            with self.store.transaction():  # committed before the response is sent
                body = handler(request)
        return Reply(request.operation.success_status, body)

    def _app_key(self, requested: Any, request: Request) -> str:
        key = requested if isinstance(requested, str) and requested else request.caller.key
        if not key or key not in self.application_keys:
            raise ApiError(400, errors.INVALID_REQUEST, "Invalid Application Key")
        return key

    # -- configuration ----------------------------------------------------------------

    def get_numbers(self, request: Request) -> Any:
        items: list[dict[str, Any]] = []
        for number, doc in self.store.items("numbers"):
            for capability, key in doc["capabilities"].items():
                item = {"number": number, "capability": capability}
                if key:
                    item["applicationkey"] = key
                items.append(item)
        return {"numbers": items}

    def update_numbers(self, request: Request) -> Any:
        body = request.body or {}
        numbers = body.get("numbers") or []
        key = self._app_key(body.get("applicationkey", body.get("applicationKey")), request)
        capability = body.get("capability") or "voice"
        docs: list[Document] = []
        for number in numbers:
            doc = self.store.get("numbers", str(number))
            if doc is None or capability not in doc["capabilities"]:
                raise ApiError(400, errors.ILLEGAL_PARAMETERS, f"Unable to update numbers: {number} cannot be assigned")
            docs.append(doc)
        for doc in docs:
            doc["capabilities"][capability] = key
            self.store.put("numbers", doc["number"], doc)
        return None

    def unassign_number(self, request: Request) -> Any:
        body = request.body or {}
        number = str(body.get("number") or "")
        key = self._app_key(body.get("applicationKey", body.get("applicationkey")), request)
        capability = body.get("capability") or "voice"
        doc = self.store.get("numbers", number)
        if doc is None or doc["capabilities"].get(capability) != key:
            raise ApiError(400, errors.ILLEGAL_PARAMETERS, "Unable to update numbers: the number is not assigned")
        doc["capabilities"][capability] = None
        self.store.put("numbers", number, doc)
        return None

    def _path_app_key(self, request: Request) -> str:
        # An unknown application in the path is a missing resource (404, declared by the spec);
        # in a body it is an invalid parameter (400 40003, as the seed documents).
        key = str(request.path_params.get("applicationkey", ""))
        if key not in self.application_keys:
            raise ApiError(404, errors.NOT_FOUND, "Application not found")
        return key

    def get_callbacks(self, request: Request) -> Any:
        key = self._path_app_key(request)
        doc = self.store.get("callbacks", key) or {}
        return {"url": {k: v for k, v in doc.items() if k in ("primary", "fallback") and v}}

    def update_callbacks(self, request: Request) -> Any:
        key = self._path_app_key(request)
        url = (request.body or {}).get("url") or {}
        doc = {k: url[k] for k in ("primary", "fallback") if isinstance(url.get(k), str)}
        self.store.put("callbacks", key, doc)
        return None

    def query_number(self, request: Request) -> Any:
        text = str(request.path_params.get("number", ""))
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            raise ApiError(400, errors.ILLEGAL_PARAMETERS, "Invalid number specified") from None
        if not phonenumbers.is_possible_number(parsed):
            raise ApiError(400, errors.ILLEGAL_PARAMETERS, "Invalid number specified")
        kind = phonenumbers.number_type(parsed)
        number_type = _NUMBER_TYPES.get(kind, "Other")
        country = phonenumbers.region_code_for_number(parsed) or "ZZ"
        restricted = _TYPE_NAMES.get(kind) in set(self.fixtures.rates.get("restricted_types") or [])
        return {
            "number": {  # Sinch's reference and SDKs; the seed's example says numberItem (DECISIONS.md)
                "countryId": country,
                "numberType": number_type,
                "normalizedNumber": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                "restricted": restricted,
                "rate": self._rate(country, number_type),
            }
        }

    def _rate(self, country: str | None, number_type: str) -> dict[str, Any]:
        rates = self.fixtures.rates
        table: Mapping[str, Any] = (rates.get("countries") or {}).get(country or "", {}) or {}
        amount = table.get(number_type, table.get("Fixed", rates.get("default", 0.0)))
        return {"currencyId": str(rates.get("currency", "USD")), "amount": float(amount)}

    def _destination_rate(self, destination: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = str(destination.get("endpoint", ""))
        if str(destination.get("type", "number")).lower() != "number":
            return self._rate(None, "Other") | {"amount": 0.0}
        return self._rate(*_classify_destination(endpoint))

    # -- calls ------------------------------------------------------------------------

    def callout(self, request: Request) -> Any:
        body = request.body or {}
        method = str(body.get("method"))
        details = body.get(method)
        if not isinstance(details, dict):
            raise ApiError(400, errors.MISSING_PARAMETER, f"Missing parameter: {method}")
        destination = details.get("destination") or _connected_number(details.get("ice")) or {}
        now = self.clock()
        call_id = self.new_id()
        if method == "ttsCallout":
            spoken = str(details.get("text") or details.get("prompts") or "")
            talk: float | None = self.tts_base + math.ceil(len(spoken) / self.tts_rate)
        else:
            max_duration = details.get("maxDuration")
            talk = float(max_duration) if isinstance(max_duration, int | float) and max_duration > 0 else None
            talk = talk if talk is not None else self.default_max_duration
        call: Document = {
            "callId": call_id,
            "method": method,
            "from": {"type": "number", "endpoint": str(details.get("cli") or "private")},
            "to": {"type": str(destination.get("type", "number")), "endpoint": str(destination.get("endpoint", ""))},
            "domain": str(details.get("domain") or ("mxp" if destination.get("type") == "username" else "pstn")),
            "custom": details.get("custom"),
            "createdAt": now,
            "answerAt": now + self.ring_seconds,
            "plannedEnd": now + self.ring_seconds + (talk or 0.0),
            "end": None,  # {"at", "result", "reason"} once ended early
            "rate": self._destination_rate(destination),
            "conferenceId": None,
            "applicationKey": request.caller.key,
        }
        outcome = self.fixtures.outcomes.get(call["to"]["endpoint"])
        if outcome is not None and "amd" in outcome:
            call["amd"] = copy.deepcopy(outcome["amd"])  # answered, by a machine or a person: the ACE says which
        elif outcome is not None:
            call["answerAt"] = None
            call["end"] = {"at": now + self.ring_seconds, "result": outcome["result"], "reason": outcome["reason"]}
        # With an ACE to deliver, a conference callout joins when the backend answers connectConf.
        join_on_ace = self.flow is not None and self.flow.plan(call, method, details, request)
        if method == "conferenceCallout":
            conference_id = str(details.get("conferenceId", ""))
            call["conferenceId"] = conference_id
            if not join_on_ace:
                self.add_participant(call, conference_id)
        self.store.put("calls", call_id, call)
        if self.flow is not None:
            self.flow.start(call)
        return {"callId": call_id}

    def script_callee(self, number: str, behaviour: str) -> None:
        """Make callouts to ``number`` end unanswered (busy, noanswer, failed) or be answered by a
        machine or a person (the ACE carries the answering machine detection result)."""
        if behaviour not in CALLEES:
            raise ApiError(400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter answer: one of {sorted(CALLEES)}")
        self.fixtures.outcomes[number] = dict(CALLEES[behaviour])

    def inbound_call(
        self,
        application_key: str,
        cli: str,
        to: str,
        presses: list[str | None] | None = None,
        hangup_after: float | None = None,
    ) -> str:
        """A caller dials one of the application's numbers: the ICE goes to its callback URLs.

        The app's SVAML answers drive the call (callflow.py): a ``runMenu`` is answered by the
        scripted ``presses`` (a key, or ``None`` for silence), one per menu, and the caller hangs
        up ``hangup_after`` seconds after dialling (else the call runs until its app ends it or
        it reaches the longest duration). DiCE follows the end.
        """
        if self.flow is None or not self.flow.callback_targets(application_key):
            raise ApiError(409, errors.INVALID_REQUEST, "Set the application's callback URLs first: the ICE goes there")
        now = self.clock()
        call_id = self.new_id()
        call: Document = {
            "callId": call_id,
            "method": "inbound",
            "from": {"type": "number", "endpoint": cli},
            "to": {"type": "number", "endpoint": to},
            "domain": "pstn",
            "custom": None,
            "createdAt": now,
            "answerAt": now,  # Sinch answers an incoming call to play the app's SVAML
            "plannedEnd": now + (hangup_after if hangup_after is not None else self.default_max_duration),
            "end": None,
            "rate": self._destination_rate({"type": "number", "endpoint": to}),
            "conferenceId": None,
            "applicationKey": application_key,
            "script": {"presses": list(presses or [])},
            "cb": {"ice": True, "pie": True, "dice": True},
        }
        if hangup_after is not None:
            call["plannedReason"] = "CALLERHANGUP"
        self.store.put("calls", call_id, call)
        self.flow.start(call)
        return call_id

    def call_state(self, call: Document, now: float) -> tuple[str, str, str, int, float | None]:
        """(status, result, reason, duration, ended_at) of a call at ``now`` (``calls.call_state``)."""
        return call_state(call, now)

    def _call(self, request: Request, read_only: bool = False) -> Document:
        call_id = str(request.path_params.get("callId", ""))
        call = self.store.read("calls", call_id) if read_only else self.store.get("calls", call_id)
        if call is None:
            raise ApiError(404, errors.NOT_FOUND, "Call not found")
        return call

    def get_call_result(self, request: Request) -> Any:
        call = self._call(request, read_only=True)
        status, result, reason, duration, _ = self.call_state(call, self.clock())
        rate = call["rate"]
        cost, minutes = debit(rate, duration)
        body: dict[str, Any] = {
            "from": call["from"],
            "to": call["to"],
            "domain": call["domain"],
            "callId": call["callId"],
            "duration": duration,
            "status": status,
            "result": result,
            "reason": reason,
            "timestamp": iso(call["createdAt"]),
            "userRate": rate,
            "debit": cost,
            "debitMinutes": minutes,
        }
        if call.get("custom") is not None:
            body["custom"] = call["custom"]
        return body

    def _end_call(self, call: Document, now: float, reason: str) -> None:
        call["end"] = {"at": now, "result": None, "reason": reason}
        if call.get("answerAt") is not None and now < call["answerAt"]:
            call["end"]["result"] = "N/A"  # hung up while ringing
        self.store.put("calls", call["callId"], call)
        if self.flow is not None:
            self.flow.call_ended(call)

    def manage_call(self, request: Request) -> Any:
        call = self._call(request)
        now = self.clock()
        status, *_ = self.call_state(call, now)
        if status == "FINAL":
            raise ApiError(404, errors.NOT_FOUND, "Call not found: it has already ended")
        body = request.body or {}
        action = body.get("action") or {"name": "continue"}  # no action: the call goes on
        name = action.get("name") if isinstance(action, dict) else None
        if name not in PATCH_ACTIONS:
            raise ApiError(400, errors.INVALID_REQUEST, f"Invalid request: action {name!r} is not allowed here")
        if name == "hangup":
            self.hang_up(call, now, "MANAGERHANGUP")
        elif name == "park":
            self.park(call)
        return None

    def hang_up(self, call: Document, now: float, reason: str) -> None:
        """End ``call`` now with ``reason`` and take it out of its conference."""
        self._end_call(call, now, reason)
        self.leave_conference(call)

    def park(self, call: Document) -> None:
        call["parked"] = True
        self.store.put("calls", call["callId"], call)

    # -- conferences ------------------------------------------------------------------

    def add_participant(self, call: Document, conference_id: str) -> None:
        """Put ``call`` in the conference (created by its first participant), unmuted, not on hold."""
        conference = self.store.get("conferences", conference_id) or {"conferenceId": conference_id, "participants": {}}
        conference["participants"][call["callId"]] = {"cli": call["to"]["endpoint"], "muted": False, "onhold": False}
        self.store.put("conferences", conference_id, conference)

    def leave_conference(self, call: Document) -> None:
        conference_id = call.get("conferenceId")
        if not conference_id:
            return
        conference = self.store.get("conferences", conference_id)
        if conference is None:
            return
        conference["participants"].pop(call["callId"], None)
        self._save_conference(conference)

    def _save_conference(self, conference: Document) -> None:
        if conference["participants"]:
            self.store.put("conferences", conference["conferenceId"], conference)
        else:
            self.store.delete("conferences", conference["conferenceId"])

    def _live_participants(self, conference: Document, now: float) -> list[tuple[str, Document, Document]]:
        """(callId, participant, call) of everyone connected now: answered and not ended."""
        live = []
        for call_id, participant in conference["participants"].items():
            call = self.store.get("calls", call_id)
            if call is None:
                continue
            status, result, *_ = self.call_state(call, now)
            if status == "ONGOING" and result == "ANSWERED":
                live.append((call_id, participant, call))
        return live

    def _conference(self, request: Request) -> Document:
        conference_id = str(request.path_params.get("conferenceId", ""))
        conference = self.store.get("conferences", conference_id)
        if conference is None:
            raise ApiError(404, errors.NOT_FOUND, "Conference not found")
        return conference

    def get_conference_info(self, request: Request) -> Any:
        conference = self._conference(request)
        now = self.clock()
        return {
            "participants": [
                {
                    "cli": participant["cli"],
                    "id": call_id,
                    "duration": int(max(0.0, now - call["answerAt"])),
                    "muted": participant["muted"],
                    "onhold": participant["onhold"],
                }
                for call_id, participant, call in self._live_participants(conference, now)
            ]
        }

    def _participant(self, request: Request, conference: Document) -> tuple[Document, Document]:
        call_id = str(request.path_params.get("callId", ""))
        for live_id, participant, call in self._live_participants(conference, self.clock()):
            if live_id == call_id:
                return participant, call
        raise ApiError(404, errors.NOT_FOUND, "Participant not found in the conference")

    def manage_participant(self, request: Request) -> Any:
        conference = self._conference(request)
        participant, _ = self._participant(request, conference)
        body = request.body or {}
        command = body.get("command")
        if command in ("mute", "unmute"):
            participant["muted"] = command == "mute"
        elif command in ("onhold", "resume"):
            participant["onhold"] = command == "onhold"
            participant["moh"] = body.get("moh") if command == "onhold" else None
        else:
            raise ApiError(400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter command: {command!r}")
        self.store.put("conferences", conference["conferenceId"], conference)
        return None

    def kick_participant(self, request: Request) -> Any:
        conference = self._conference(request)
        _, call = self._participant(request, conference)
        now = self.clock()
        self._end_call(call, now, "MANAGERHANGUP")
        conference["participants"].pop(call["callId"], None)
        self._save_conference(conference)
        return None

    def kick_conference_all(self, request: Request) -> Any:
        conference = self._conference(request)
        now = self.clock()
        for call_id in list(conference["participants"]):
            call = self.store.get("calls", call_id)
            if call is not None and self.call_state(call, now)[0] == "ONGOING":
                self._end_call(call, now, "MANAGERHANGUP")
        conference["participants"] = {}
        self._save_conference(conference)
        return None
