"""Tax ID types: the enum, the country each type gives, which types Stripe verifies, and
the value formats this library checks. Choices are written down in docs/decisions.md.

>>> country_of("eu_vat", "EL123456789"), country_of("us_ein", "12-3456789")
('GR', 'US')
>>> value_fits("eu_vat", "DE123456789"), value_fits("eu_vat", "DE12345")
(True, False)
"""

from __future__ import annotations

import re

__all__ = [
    "TAX_ID_TYPES",
    "VALIDATED_TYPES",
    "VERIFIED_TYPES",
    "country_of",
    "value_fits",
    "verification_status",
]

# The enum of the official SDK's tax ID params (stripe-python 16.1, API 2026-10-28): the
# 117 codes of the 2026-09-30 spec plus 18 added since. Stripe marks the enum as growing,
# and an SDK user's code that Stripe accepts must not fail here.
TAX_ID_TYPES: tuple[str, ...] = tuple(
    (
        "ad_nrt ae_trn al_tin am_tin ao_tin ar_cuit au_abn au_acn au_arn au_wpn aw_tin az_tin "
        "ba_tin bb_tin bd_bin bf_ifu bg_uic bh_vat bj_ifu bo_tin br_cnpj br_cpf bs_tin bw_vat "
        "by_tin ca_bn ca_gst_hst ca_pst_bc ca_pst_mb ca_pst_sk ca_qst cd_nif ch_uid ch_vat "
        "ci_vat cl_tin cm_niu cn_tin co_nit cr_tin cv_nif cz_dic de_stn do_rcn ec_ruc eg_tin "
        "es_cif et_tin eu_oss_vat eu_vat fo_vat fr_siren fr_siret fr_spi gb_vat ge_vat gh_tin "
        "gi_tin gn_nif hk_br hr_oib hu_tin ic_nif id_npwp il_vat in_gst is_kt is_vat it_cf "
        "jp_cn jp_rn jp_trn ke_pin kg_tin kh_tin kr_brn kz_bin la_tin li_uid li_vat lk_vat "
        "ma_vat md_cf md_vat me_pib mk_vat mr_nif mu_vat mx_rfc my_frp my_itn my_sst mz_nuit "
        "ng_tin no_vat no_voec np_pan nz_bn nz_gst om_vat pe_ruc ph_tin pl_nip pt_nif py_ruc "
        "ro_tin rs_pib ru_inn ru_kpp sa_vat sg_gst sg_uen si_tin sm_coe sn_ninea sr_fin sv_nit "
        "th_vat tj_tin tr_tin tt_bir tt_vat tw_vat tz_vat ua_vat ug_tin us_ein uy_ruc uz_tin "
        "uz_vat ve_rif vn_tin za_vat zm_tin zw_tin"
    ).split()
)

VERIFIED_TYPES = frozenset({"au_abn", "eu_vat", "gb_vat"})
"""Types Stripe checks against a government registry (ABR, VIES, HMRC): ``pending``."""

# Countries that differ from the type's own prefix; eu_vat reads the value's prefix.
_COUNTRY_EXCEPTIONS: dict[str, str | None] = {"eu_oss_vat": None, "ic_nif": "ES"}
# VAT prefixes that are not ISO country codes: Greece uses EL, Northern Ireland XI.
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}

# eu_vat: the part after the member state's prefix (the VIES formats).
_EU_VAT = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}(?:\d{3})?",
    "IE": r"\d[A-Z0-9+*]\d{5}[A-Z]{1,2}",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}

# Other types whose format is checked, on the value with spaces, dots, hyphens and
# slashes taken out and letters uppercased (so "12-3456789" and "123456789" are one EIN).
_FORMATS = {
    "au_abn": r"\d{11}",
    "au_arn": r"\d{12}",
    "br_cnpj": r"\d{14}",
    "br_cpf": r"\d{11}",
    "ca_bn": r"\d{9}",
    "ca_gst_hst": r"\d{9}RT\d{4}",
    "ca_pst_bc": r"PST\d{8}",
    "ca_pst_mb": r"\d{7}",
    "ca_pst_sk": r"\d{7}",
    "ca_qst": r"\d{10}TQ\d{4}",
    "ch_vat": r"CHE\d{9}(?:MWST|TVA|IVA|TPV)",
    "es_cif": r"[A-Z]\d{7}[A-Z0-9]",
    "gb_vat": r"GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "in_gst": r"\d{2}[A-Z]{5}\d{4}[A-Z][0-9A-Z]Z[0-9A-Z]",
    "no_vat": r"\d{9}MVA",
    "nz_gst": r"\d{8,9}",
    "us_ein": r"\d{9}",
    "za_vat": r"4\d{9}",
}
_PATTERNS = {name: re.compile(pattern) for name, pattern in _FORMATS.items()}
_EU_VAT_PATTERNS = {prefix: re.compile(pattern) for prefix, pattern in _EU_VAT.items()}
_SEPARATORS = re.compile(r"[\s./-]")

VALIDATED_TYPES = frozenset({"eu_vat", *_FORMATS})
"""Types whose value format is checked; other values are taken as given."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value).upper()


def value_fits(tax_id_type: str, value: str) -> bool:
    """Whether ``value`` has the format of ``tax_id_type`` (always True for the types
    whose format this library does not check). A control character (a trailing newline,
    a tab) never fits: it would be stored and shown as part of the number."""
    if _CONTROL.search(value):
        return False
    compact = _compact(value)
    if tax_id_type == "eu_vat":
        pattern = _EU_VAT_PATTERNS.get(compact[:2])
        return pattern is not None and pattern.fullmatch(compact[2:]) is not None
    pattern = _PATTERNS.get(tax_id_type)
    return pattern is None or pattern.fullmatch(compact) is not None


def country_of(tax_id_type: str, value: str) -> str | None:
    """The ISO country of a tax ID: the value's prefix for ``eu_vat`` (EL → GR, XI → GB),
    else the type's prefix, with the two types whose prefix is no country mapped."""
    if tax_id_type == "eu_vat":
        prefix = _compact(value)[:2]
        return _VAT_PREFIX_COUNTRY.get(prefix, prefix)
    if tax_id_type in _COUNTRY_EXCEPTIONS:
        return _COUNTRY_EXCEPTIONS[tax_id_type]
    return tax_id_type.split("_", 1)[0].upper()


def verification_status(tax_id_type: str) -> str:
    """``pending`` for the types Stripe verifies, ``unavailable`` for the others."""
    return "pending" if tax_id_type in VERIFIED_TYPES else "unavailable"
