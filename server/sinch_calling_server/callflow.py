"""The callbacks of a simulated call, and what their SVAML answers do to it.

A callout that asks for callbacks (``enableAce``/``enableDice``/``enablePie``, when the
application has callback URLs; or a custom callout, whose ``ice``/``ace``/``pie`` are each inline
SVAML or a URL that replaces the callback URL, and ``dice`` a URL) gets a plan, ``call["cb"]``,
and jobs in the store (see ``jobs.JobQueue``):

- ``ice``    (custom callout without inline ``ice``, at placement): ICE to the callback URLs.
- ``answer`` (when the call is answered): the inline ``ace`` SVAML, or an ACE to the callback URLs.
- ``pie``    (``menu_seconds`` after a ``runMenu`` starts): PIE with simulated input, to the custom
  callout's ``pie`` URL or the callback URLs (``enablePie``).
- ``dice``   (when the call ends: hangup, kick, kick all, its natural end): DiCE.

``prepare`` turns a due job into the event to send (or applies inline SVAML itself), and
``complete`` applies the answer: ``hangup`` ends the call (MANAGERHANGUP, as a PATCH hangup: the
same SVAML action from the same application), ``connectConf`` joins the conference, ``continue``
carries on (for a conference callout whose ACE gates the join: joins the requested conference),
``runMenu`` leads to a PIE whose input is the menu's first option, pressed (``dtmf``). An
answer that is not valid SVAML for that event ends the call with INVALIDSVAMLACTION; an ICE that
cannot be delivered ends it with CALLBACKERROR; an undeliverable ACE or PIE lets the call go on.

Effects happen at the job's own time (not when it happened to be processed), so the outcome
of a test does not depend on how often the scheduler ran.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .calls import call_state, debit
from .clock import iso
from .jobs import JobQueue
from .jsonio import parse_json
from .messages import Request
from .spec import Validator
from .store import Document, Store

__all__ = ["INVALID", "CallFlow", "Calls", "Outgoing", "simulate_menu"]

log = logging.getLogger("sinch_calling_server.callbacks")

# An answer that came back but is not JSON.
INVALID: Any = object()

ANSWER_SCHEMAS = {"ice": "IceResponse", "ace": "AceResponse", "pie": "PieResponse"}
_OPTION = re.compile(r"^(menu|return)\((.*)\)$", re.DOTALL)


@dataclass
class Outgoing:
    """One event to deliver: its body, where to (in order), and whose application signs it."""

    event: str
    call_id: str
    body: dict[str, Any]
    targets: list[tuple[str, str]]  # (role, url): primary, fallback, or pie
    app_key: str


def simulate_menu(action: Mapping[str, Any], presses: list[str | None] | None = None) -> dict[str, Any]:
    """The caller's input to a ``runMenu``: scripted key presses, or else the first option pressed.

    ``presses`` (a scripted caller's) are consumed from the front, one per menu visited: a key
    (``"1"``, ``"#"``) picks the option with that ``dtmf``, ``None`` is silence (a timeout), and a
    key no option has is invalid input. Without a script, the first option of each menu is
    pressed. ``menu(id)`` options are followed; ``return(value)`` ends the menu with that value. A
    menu without options times out; a missing menu or a loop is an error.
    """
    menus = {str(m.get("id")): m for m in action.get("menus") or [] if isinstance(m, Mapping)}
    current = str(action.get("mainMenu") or next(iter(menus), ""))
    seen: set[str] = set()
    while current in menus and current not in seen:
        seen.add(current)
        options = [o for o in menus[current].get("options") or [] if isinstance(o, Mapping)]
        if presses is None:
            if not options:
                return {"type": "timeout", "menuId": current, "inputMethod": "dtmf"}
            option = options[0]
        else:
            press = presses.pop(0) if presses else None
            if press is None:
                return {"type": "timeout", "menuId": current, "inputMethod": "dtmf"}
            chosen = [o for o in options if str(o.get("dtmf")) == press]
            if not chosen:
                return {"type": "invalidinput", "value": press, "menuId": current, "inputMethod": "dtmf"}
            option = chosen[0]
        match = _OPTION.match(str(option.get("action", "")))
        if match is None:
            break
        if match.group(1) == "return":
            return {"type": "return", "value": match.group(2), "menuId": current, "inputMethod": "dtmf"}
        current = match.group(2)
    return {"type": "error", "menuId": current, "inputMethod": "dtmf"}


# A tts or conference callout's flags asking for each callback.
def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.lstrip().lower().startswith(("http://", "https://"))


_ENABLE_FLAGS = (("enableAce", "ace"), ("enableDice", "dice"), ("enablePie", "pie"))


class Calls(Protocol):
    """What an SVAML answer does to calls: the simulation (``simulation.Simulation``), which owns the flow."""

    store: Store
    default_max_duration: float
    menu_seconds: float

    def hang_up(self, call: Document, now: float, reason: str) -> None: ...

    def park(self, call: Document) -> None: ...

    def add_participant(self, call: Document, conference_id: str) -> None: ...

    def leave_conference(self, call: Document) -> None: ...


class CallFlow:
    """Plans the callbacks of calls, builds their events and applies their SVAML answers."""

    def __init__(
        self,
        simulation: Calls,
        jobs: JobQueue,
        schemas: Mapping[str, Validator],
    ) -> None:
        self.sim = simulation
        self.store = simulation.store
        self.jobs = jobs
        self.schemas = schemas
        self.menu_seconds = max(simulation.menu_seconds, 0.1)  # a runMenu loop must let time pass

    # -- configuration ---------------------------------------------------------------

    def callback_targets(self, app_key: str | None) -> list[tuple[str, str]]:
        """The application's callback URLs in the order they are tried."""
        doc = self.store.read("callbacks", app_key) if app_key else None
        if not doc:
            return []
        return [(role, str(doc[role])) for role in ("primary", "fallback") if doc.get(role)]

    # -- placing a call --------------------------------------------------------------

    def plan(self, call: Document, method: str, details: Mapping[str, Any], request: Request) -> bool:
        """Decide which callbacks ``call`` sends (sets ``call["cb"]``). True: ACE decides the join."""
        if method != "customCallout" and not any(details.get(flag) is True for flag, _ in _ENABLE_FLAGS):
            return False  # asks for no callbacks: no need to look the application's URLs up
        has_urls = bool(self.callback_targets(call.get("applicationKey")))
        cb: dict[str, Any] = {}
        if method == "customCallout":
            # Each of ice/ace/pie is inline SVAML or a URL for that event (Sinch's reference); dice a URL.
            for event in ("ice", "ace", "pie", "dice"):
                value = details.get(event)
                if _is_url(value):
                    cb[f"{event}Url"] = value
                elif event != "dice" and isinstance(value, str) and value.strip():
                    cb[f"{event}Svaml"] = value
                elif has_urls:
                    cb[event] = True
        elif has_urls:
            for flag, name in _ENABLE_FLAGS:
                if details.get(flag) is True:
                    cb[name] = True
        if not cb:
            return False
        host = request.headers.get("host")
        if host:
            cb["callResourceUrl"] = f"http://{host}/calling/v1/calls/id/{call['callId']}"
        gate = method == "conferenceCallout" and bool(cb.get("ace"))
        if gate:
            cb["joinPending"] = True
        call["cb"] = cb
        return gate

    def start(self, call: Document) -> None:
        """After the callout is stored: apply the inline ICE, schedule the first jobs."""
        cb = call.get("cb")
        if not cb:
            return
        call_id = call["callId"]
        created = float(call["createdAt"])
        if "iceSvaml" in cb:
            self._apply_text(call, cb["iceSvaml"], "ice", created)
        elif cb.get("ice") or "iceUrl" in cb:
            self.jobs.schedule(call_id, "ice", created)
        if call.get("answerAt") is not None and ("aceSvaml" in cb or "aceUrl" in cb or cb.get("ace")):
            self.jobs.schedule(call_id, "answer", float(call["answerAt"]))
        if cb.get("dice") or "diceUrl" in cb:
            self.jobs.schedule(call_id, "dice", self._expected_end(call))

    def call_ended(self, call: Document) -> None:
        """The simulation ended ``call`` early: its DiCE is due at once."""
        cb = call.get("cb")
        if cb and (cb.get("dice") or "diceUrl" in cb) and not cb.get("diceSent"):
            self.jobs.schedule(call["callId"], "dice", self._expected_end(call))

    def _targets(self, cb: Mapping[str, Any], event: str, key: str) -> list[tuple[str, str]]:
        """A custom callout's own URL for ``event``, else the application's callback URLs."""
        url = cb.get(f"{event}Url")
        return [(event, str(url))] if url else self.callback_targets(key)

    @staticmethod
    def _expected_end(call: Document) -> float:
        end = call.get("end")
        return float(end["at"]) if end is not None else float(call["plannedEnd"])

    # -- jobs ------------------------------------------------------------------------

    def prepare(self, job: Document) -> Outgoing | None:
        """The event a due job sends, or None (nothing to send, or inline SVAML applied here)."""
        call = self.store.get("calls", str(job.get("callId")))
        if call is None:
            return None
        cb: dict[str, Any] = call.get("cb") or {}
        at = float(job["at"])
        kind = job.get("kind")
        status, result, reason, duration, ended = call_state(call, at)
        key = str(call.get("applicationKey") or "")
        if kind == "dice":
            if cb.get("diceSent"):
                return None
            if status != "FINAL":  # the call was extended (e.g. a TTS call joined a conference)
                self.jobs.schedule(call["callId"], "dice", max(self._expected_end(call), at))
                return None
            cb["diceSent"] = True
            self.store.put("calls", call["callId"], call)
            body = self._dice(call, ended if ended is not None else at, result, reason, duration)
            return Outgoing("dice", call["callId"], body, self._targets(cb, "dice", key), key)
        if status == "FINAL" or call.get("end") is not None:
            return None
        if kind == "ice":
            return Outgoing("ice", call["callId"], self._ice(call, at), self._targets(cb, "ice", key), key)
        if kind == "answer":
            if "aceSvaml" in cb:
                self._apply_text(call, cb["aceSvaml"], "ace", at)
                return None
            body = self._common(call, "ace", at)
            if call.get("amd"):
                body["amd"] = call["amd"]  # a scripted callee: a machine or a person answered
            return Outgoing("ace", call["callId"], body, self._targets(cb, "ace", key), key)
        if kind == "pie":
            if "pieSvaml" in cb:
                self._apply_text(call, cb["pieSvaml"], "pie", at)
                return None
            url = job.get("url")
            targets = [("pie", str(url))] if url else self.callback_targets(key)
            body = self._common(call, "pie", at) | {"menuResult": job.get("menuResult") or {}}
            return Outgoing("pie", call["callId"], body, targets, key)
        return None

    def complete(self, job: Document, outgoing: Outgoing, delivered: bool, answer: Any) -> None:
        """Apply what the backend answered (``None`` for an empty answer, ``INVALID`` for non-JSON)."""
        event = outgoing.event
        if event not in ANSWER_SCHEMAS:
            return
        call = self.store.get("calls", outgoing.call_id)
        at = float(job["at"])
        if call is None or call.get("end") is not None or call_state(call, at)[0] == "FINAL":
            return  # ended meanwhile (hangup, kick): nothing left to apply
        if not delivered:
            if event == "ice":
                self.sim.hang_up(call, at, "CALLBACKERROR")
            else:
                self._apply(call, {"action": {"name": "continue"}}, event, at)
            return
        if answer is None and event != "ice":
            self._apply(call, {"action": {"name": "continue"}}, event, at)
            return
        if not self._valid_answer(answer, event):
            log.warning("call %s: the %s answer is not valid SVAML for %s; hanging up", call["callId"], event, event)
            self.sim.hang_up(call, at, "INVALIDSVAMLACTION")
            return
        self._apply(call, answer, event, at)

    # -- SVAML -----------------------------------------------------------------------

    def _valid_answer(self, answer: Any, event: str) -> bool:
        if answer is None or answer is INVALID or not isinstance(answer, dict):
            return False
        validator = self.schemas.get(ANSWER_SCHEMAS[event])
        if validator is not None:
            return validator.is_valid(answer)
        action = answer.get("action")
        return isinstance(action, dict) and isinstance(action.get("name"), str)

    def _apply_text(self, call: Document, text: str, event: str, at: float) -> None:
        """Inline SVAML (a custom callout's ``ice``/``ace``): applied here, no HTTP."""
        try:
            svaml: Any = parse_json(text.encode("utf-8"))
        except (ValueError, RecursionError):
            svaml = INVALID
        if not self._valid_answer(svaml, event):
            log.info("call %s: the inline %s SVAML is not valid; hanging up", call["callId"], event)
            self.sim.hang_up(call, at, "INVALIDSVAMLACTION")
            return
        self._apply(call, svaml, event, at)

    def _apply(self, call: Document, svaml: Mapping[str, Any], event: str, at: float) -> None:
        # No action: the call goes on as it was (Sinch's reference requires neither part of SVAML).
        action = svaml.get("action") or {"name": "continue"}
        name = action.get("name")
        cb: dict[str, Any] = call.setdefault("cb", {})
        if name == "hangup":
            self.sim.hang_up(call, at, "MANAGERHANGUP")
        elif name == "connectConf":
            self._join(call, str(action.get("conferenceId")), at)
        elif name == "continue":
            if cb.get("joinPending") and call.get("conferenceId"):
                self._join(call, str(call["conferenceId"]), at)
        elif name == "runMenu":
            self._run_menu(call, action, at)
        elif name == "park":
            self.sim.park(call)
        # connectPstn / connectSip / connectMxp: the simulated call simply goes on.

    def _join(self, call: Document, conference_id: str, at: float) -> None:
        cb: dict[str, Any] = call.setdefault("cb", {})
        pending = bool(cb.pop("joinPending", False))
        previous = call.get("conferenceId")
        if previous and previous != conference_id and not pending:
            self.sim.leave_conference(call)
        self.sim.add_participant(call, conference_id)
        call["conferenceId"] = conference_id
        if call.get("method") == "ttsCallout":  # in a conference now: no longer ends with its text
            start = float(call.get("answerAt") or at)
            call["plannedEnd"] = max(float(call["plannedEnd"]), start + self.sim.default_max_duration)
            if cb.get("dice") and not cb.get("diceSent"):
                self.jobs.schedule(call["callId"], "dice", float(call["plannedEnd"]))
        self.store.put("calls", call["callId"], call)

    def _run_menu(self, call: Document, action: Mapping[str, Any], at: float) -> None:
        cb: dict[str, Any] = call.get("cb") or {}
        url = cb.get("pieUrl")
        if not url and not cb.get("pie") and "pieSvaml" not in cb:
            log.info("call %s: runMenu without a PIE destination (enablePie is off)", call["callId"])
            return
        answered = call.get("answerAt")
        begins = max(at, float(answered)) if answered is not None else at
        script = call.get("script")
        presses = script.setdefault("presses", []) if isinstance(script, dict) else None
        result = simulate_menu(action, presses)
        if presses is not None:
            self.store.put("calls", call["callId"], call)  # the presses used up
        self.jobs.schedule(call["callId"], "pie", begins + self.menu_seconds, menuResult=result, url=url)

    # -- events ----------------------------------------------------------------------

    def _common(self, call: Document, event: str, at: float) -> dict[str, Any]:
        body: dict[str, Any] = {"event": event, "callid": call["callId"], "timestamp": iso(at), "version": 1}
        if isinstance(call.get("custom"), str):
            body["custom"] = call["custom"]
        if call.get("applicationKey"):
            body["applicationKey"] = call["applicationKey"]
        if call.get("conferenceId") and event != "ice":
            body["conferenceId"] = call["conferenceId"]
        return body

    def _ice(self, call: Document, at: float) -> dict[str, Any]:
        body = self._common(call, "ice", at)
        cb = call.get("cb") or {}
        if cb.get("callResourceUrl"):
            body["callResourceUrl"] = cb["callResourceUrl"]
        body |= {"userRate": call["rate"], "cli": call["from"]["endpoint"], "to": call["to"], "domain": call["domain"]}
        # Sinch writes the domain in lower case and the origination type in upper case (OAS, Node's tests).
        body["originationType"] = str(call["domain"]).upper()
        return body

    def _dice(self, call: Document, at: float, result: str, reason: str, duration: int) -> dict[str, Any]:
        rate = call["rate"]
        return self._common(call, "dice", at) | {
            "reason": reason,
            "result": result,
            "duration": duration,
            "from": call["from"]["endpoint"],
            "to": call["to"],
            "userRate": rate,
            "debit": debit(rate, duration)[0],
        }
