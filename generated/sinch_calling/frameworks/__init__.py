"""Receive Sinch callbacks in Starlette/FastAPI, Flask or Django: one call per request.

Each framework module has the same three names:

- ``sinch_event(request, ...)``: the request, verified and parsed into a typed event
  (``IceEvent``, ``AceEvent``, ...). It raises ``CallbackVerificationError`` (answer 401),
  ``UnknownEventError`` (an event newer than this client: answer 200) or ``CallbackParseError``
  (answer 400).
- ``svaml_response(answer)``: an SVAML answer (or ``None``) as that framework's response.
- ``sinch_callback(handler)``: a complete endpoint around ``handler(event) -> answer | None``,
  answering 401, 400 or 200 itself, for the routes of that framework.

The key and secret default to ``SINCH_APPLICATION_KEY`` and ``SINCH_APPLICATION_SECRET``.
The framework modules import their framework; this one imports none.
"""

from ._receiver import CallbackHandler, Receiver, SvamlAnswer, answer_body

__all__ = ["CallbackHandler", "Receiver", "SvamlAnswer", "answer_body"]
