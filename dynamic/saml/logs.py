"""Keep pysaml2's log messages out of the logs: they carry personal data.

pysaml2 puts whole documents into its messages: the decrypted assertion (name, address,
birth date, pseudonym) at ERROR when a signature fails its checks (a wrapped signature, for
one), the citizen's identity at DEBUG on every login. So its loggers (`saml2` and every
`saml2.*` below it) hand no record to any handler: each record at WARNING or above is
replaced by a fixed line that says where pysaml2 complained and nothing of what it said;
records below WARNING are dropped. The service provider logs its own refusal reasons.
"""

from __future__ import annotations

import logging

PYSAML2 = "saml2"
log = logging.getLogger("dynamic.saml.pysaml2")


class WithholdText(logging.Handler):
    """The only handler of the `saml2` logger, which passes nothing on to its parents."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING:
            return
        log.log(record.levelno, "pysaml2 reported a problem in %s (%s, line %d); its text is withheld, it may "
                "contain personal data", record.name, record.funcName, record.lineno)


def withhold_pysaml2_logs() -> None:
    """Installed by create_app; calling it again changes nothing. Handlers that a logging
    configuration put on pysaml2's loggers are taken off, since they would get the text."""
    for name, child in list(logging.root.manager.loggerDict.items()):
        if name.startswith(PYSAML2 + ".") and isinstance(child, logging.Logger):
            child.handlers = []  # every record of pysaml2 reaches the one handler below
            child.propagate = True
    logger = logging.getLogger(PYSAML2)
    logger.propagate = False
    for handler in list(logger.handlers):
        if not isinstance(handler, WithholdText):
            logger.removeHandler(handler)
    if not logger.handlers:
        logger.addHandler(WithholdText())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)  # spares pysaml2 formatting debug lines nobody sees
