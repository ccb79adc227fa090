"""Who may ask for which signature: the end user's role and the key's agency (issue #7).

With an end user in ``lt-caller`` (see :mod:`services.chassis.caller`), the signing service
checks for itself what the gateway already checked:

* the step needs a role — the competent person signs (PERSON: ``signer``); the clerk fills in
  number and date and applies the organisation's signature to documents, attachments and
  copies (NUMBER_AND_DATE, ORGANISATION, ATTACHMENT, COPY: ``clerk``), as NĐ 30/2020/NĐ-CP
  Điều 15 khoản 1 and Điều 16 distribute the work of issuing;
* the key's certificate names the caller's agency (its agency code, the one ``ListKeys``
  shows): nobody signs with another agency's key. A province admin passes both checks.

A call without ``lt-caller`` is the platform itself (a worker, the CLI) and is not restricted.
"""

from __future__ import annotations

from lienthong.signing.v1 import signing_pb2 as pb

from services.chassis.caller import current_caller, require_role
from services.chassis.errors import PermissionDenied
from services.signing.service_layer.grpc_support import SignerDirectory, SignRequest

SIGNER_ROLE = "signer"
CLERK_ROLE = "clerk"
STEP_ROLES: dict[int, str] = {
    pb.PERSON: SIGNER_ROLE,
    pb.NUMBER_AND_DATE: CLERK_ROLE,
    pb.ORGANISATION: CLERK_ROLE,
    pb.ATTACHMENT: CLERK_ROLE,
    pb.COPY: CLERK_ROLE,
}


def check_caller_scope(
    request: SignRequest, signers: SignerDirectory, prefix: str = "header"
) -> None:
    """Refuse (PERMISSION_DENIED) a step the end user may not ask for.

    The role is checked first (no token access for a caller without it); the key's profile
    comes from the signer directory, so an unknown key is refused here exactly as the signing
    step would refuse it (:class:`~services.signing.adapters.hsm.HsmError`).
    """
    caller = current_caller()
    if caller is None:
        return
    require_role(STEP_ROLES[request.step], field="caller")
    if request.key_id is None or caller.is_province_admin:
        return
    agency_code = signers.profile(request.key_id).subject.agency_code or ""
    if agency_code != caller.agency_code:
        raise PermissionDenied(
            f"key {request.key_id.hex()} is certified for "
            f"{agency_code or 'no agency code'}; {caller.username} acts for "
            f"{caller.agency_code} and signs only with that agency's keys",
            field=f"{prefix}.key_id_hex",
        )
