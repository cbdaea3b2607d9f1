"""FIT-Connect as a second delivery channel, the portal being the sender (an "Onlinedienst").

An office switched to FIT-Connect (`offices.channel`) gets each application as a submission to
its destination, pinned per office or found through the routing API by the service's LeiKa key
and the town's regional key. The flow follows FITKO's published Submission API (v1):

1. an OAuth2 access token for the portal's sender client (client credentials),
2. the destination (`GET /v1/destinations/{id}`): active, offering the service and our form's
   schema, and its encryption key (`GET …/keys/{kid}`) must be the office's registered key.
   A destination found through the Routing API is trusted only once both of the route's
   signatures verify (`Client.verified_route`): the self-service portal's `destinationSignature`
   (a JWT, PS512, with a key from the portal's published JWKS, FITCONNECT_SSP_JWKS_URL) names
   the destination, the service and region it serves and the host of its delivery service;
   the delivery service's `destinationParametersSignature` (a detached JWS, PS512, with a key
   from that host's JWKS, chained to FITCONNECT_ROOT_CERTS where configured) covers the
   parameters: status, keys, schemas and the `submissionUrl` the submission then goes to,
3. `POST /v1/submissions` announces the attachments (UUIDs we chose) and gives the submission
   and case ids,
4. `PUT /v1/submissions/{id}/attachments/{attachmentId}`: each attachment as its own JWE,
5. `PUT /v1/submissions/{id}` with `encryptedMetadata` (the metadata schema's contentStructure:
   the data's schema URI and SHA-512, each attachment's SHA-512, mime type and purpose) and
   `encryptedData` (the application's payload, our Fachdaten),
6. `GET /v1/cases/{caseId}/events`: security event tokens; the destination's
   accept-submission or reject-submission, signed by it (PS512), decides.

Everything sent is prepared while the application is stored (`queue`, in the same
transaction): the metadata and every file encrypted for the office's key, which the portal
cannot read afterwards, and the application's own JWE is the encrypted data. The outbox item
(`outbox`) then only talks to FIT-Connect, step by step, and records each step
(`FitConnectSubmission`, `FitConnectAttachment`), so a retry goes on where the last attempt
stopped instead of creating a second submission.

The code by concern: channel.py (names, errors, endpoints, an office's channel), prepare.py
(`queue`), routing.py (trusting a route), client.py (the Submission API), outbox_steps.py
(`outbox`: delivering, the decision, telling the citizen). Everything logs to the logger
"dynamic.forms.fitconnect".
"""

from .channel import (
    CHANNEL,
    OUTBOX_KIND,
    ROUTING,
    Endpoints,
    FitConnectError,
    Refused,
    RouteRefused,
    describe_channel,
    is_destination_id,
    switch_channel,
)
from .client import Client, Decision
from .outbox_steps import deliver, look_for_decision, outbox
from .prepare import encrypt_bytes, plain_bytes, queue
from .routing import Route

__all__ = ["CHANNEL", "OUTBOX_KIND", "ROUTING", "Client", "Decision", "Endpoints", "FitConnectError", "Refused",
           "Route", "RouteRefused", "deliver", "describe_channel", "encrypt_bytes", "is_destination_id",
           "look_for_decision", "outbox", "plain_bytes", "queue", "switch_channel"]
