"""One company, one name: the entity a filing belongs to, matched by CIK, ticker, former names and spellings."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from corpus.models import Company, Document

# Renames and house spellings a name normalisation cannot see: former name -> current name's key.
_FORMER_NAMES = {
    "adobesystems": "adobe",
    "square": "block",
    "walmartstores": "walmart",
    "walmart": "walmart",
    "jpmorganchase": "jpmorgan",
    "jpmorganchaseandco": "jpmorgan",
    "jpmorganchaseco": "jpmorgan",
    "jpmorgan": "jpmorgan",
    "activisionblizzard": "activisionblizzard",
    "3mcompany": "3m",
    "mmm": "3m",
    "johnsonandjohnson": "johnsonjohnson",
    "johnson": "johnsonjohnson",
    "jnj": "johnsonjohnson",
    "jpm": "jpmorgan",
    "activision": "activisionblizzard",
    "kraft": "kraftheinz",
    "cocacola": "cocacola",
    "thecocacola": "cocacola",
    "americanexpress": "americanexpress",
    "amex": "americanexpress",
    "cvs": "cvshealth",
    "mgm": "mgmresorts",
    "mgmresortsinternational": "mgmresorts",
    "ulta": "ultabeauty",
    "ultasalon": "ultabeauty",
    "ultasaloncosmeticsandfragrance": "ultabeauty",
    "bestbuyco": "bestbuy",
    "advancedmicrodevices": "amd",
    "verizoncommunications": "verizon",
    "amazoncom": "amazon",
    "costcowholesale": "costco",
    "lockheed": "lockheedmartin",
    "generalmill": "generalmills",
    "americanwaterworksco": "americanwaterworks",
    "americanwater": "americanwaterworks",
    "corningincorporated": "corning",
    "pepsi": "pepsico",
    "thebuckle": "buckle",
    "boeingco": "boeing",
    "theboeing": "boeing",
}
_SUFFIX = re.compile(
    r"\b(?:the|inc|incorporated|corp|corporation|company|co|plc|ltd|limited|llc|lp|holdings?|group|sa|nv|ag|se)\b"
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def company_key(name: str) -> str:
    """'Adobe Systems Incorporated' -> 'adobe', 'FOOTLOCKER' and 'Foot Locker, Inc.' -> 'footlocker', 'Wal-Mart Stores' -> 'walmart'."""
    low = name.lower().replace("&", " and ").replace(".com", "com")
    full = _NON_ALNUM.sub("", low)
    if full in _FORMER_NAMES:
        return _FORMER_NAMES[full]
    core = _NON_ALNUM.sub("", _SUFFIX.sub(" ", low.replace("'", "")))
    core = core or full
    return _FORMER_NAMES.get(core, core)


def _better_name(new: str, old: str, new_period: date | None, old_period: date | None) -> bool:
    """A printed name ('Foot Locker, Inc.') beats a file-name token ('FOOTLOCKER'); among printed names the latest filing's."""
    if new.isupper() != old.isupper():
        return old.isupper()
    return new_period is not None and (old_period is None or new_period > old_period)


def resolve_company(
    session: Session, name: str | None, cik: str | None, ticker: str | None, period_end: date | None = None
) -> Company | None:
    """The company entity a filing belongs to (created or extended with the new alias); None without a name or CIK."""
    if not name and not cik:
        return None
    key = company_key(name) if name else None
    company = None
    if cik:
        company = session.scalars(select(Company).where(Company.cik == cik)).first()
    if company is None and key:
        company = session.scalars(select(Company).where(Company.key == key)).first()
        if company is None:
            for candidate in session.scalars(select(Company)).all():
                if key in {company_key(a) for a in candidate.aliases or []}:
                    company = candidate
                    break
    if company is None:
        company = Company(
            key=key or f"cik{cik}", name=name or f"CIK {cik}", cik=cik, tickers=[], aliases=[], name_as_of=period_end
        )
        session.add(company)
    if name and name not in (company.aliases or []) and name != company.name:
        company.aliases = [*(company.aliases or []), name]
    if name and name != company.name and _better_name(name, company.name, period_end, company.name_as_of):
        company.aliases = [a for a in [*(company.aliases or []), company.name] if a != name]
        company.name = name
        company.name_as_of = period_end
    if cik and not company.cik:
        company.cik = cik
    if ticker and ticker.upper() not in (company.tickers or []):
        company.tickers = [*(company.tickers or []), ticker.upper()]
    session.flush()
    return company


def rename_documents(session: Session, company: Company) -> None:
    """Every filing of the entity carries its canonical name."""
    for doc in session.scalars(select(Document).where(Document.company_id == company.id)).all():
        if doc.company != company.name:
            doc.company = company.name
