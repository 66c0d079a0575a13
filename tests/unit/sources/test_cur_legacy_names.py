"""Legacy CUR names → CUR 2.0 names: the Athena rule the converter maps both legacy layouts with."""

from __future__ import annotations

import pytest
from companyos.sources import cur
from companyos.sources.cur_legacy import AMORTIZED_INPUTS, LEGACY_NAMES, REQUIRED, athena_name


@pytest.mark.parametrize(
    ("legacy", "athena"),
    [
        ("identity/LineItemId", "identity_line_item_id"),
        ("lineItem/UsageAccountId", "line_item_usage_account_id"),
        ("product/ProductName", "product_product_name"),
        ("product/servicecode", "product_servicecode"),
        ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n"),  # as in the Athena fixture
        ("resourceTags/user:Cost Center", "resource_tags_user_cost_center"),
        ("resourceTags/user:karpenter.sh/nodepool", "resource_tags_user_karpenter_sh_nodepool"),
        ("resourceTags/aws:createdBy", "resource_tags_aws_created_by"),
        ("line_item_unblended_cost", "line_item_unblended_cost"),  # snake_case is already Athena's
        ("resource_tags_user_c25_key", "resource_tags_user_c25_key"),
    ],
)
def test_legacy_names_take_their_athena_form(legacy, athena):
    assert athena_name(legacy) == athena


def test_every_costquery_column_has_its_legacy_name_and_it_maps_back():
    plain = {c for c in cur.CUR2_COLUMNS if c not in ("product", "resource_tags")}
    assert set(LEGACY_NAMES) == plain
    for cur2, legacy in LEGACY_NAMES.items():
        assert athena_name(legacy) == cur2
    assert set(REQUIRED) <= plain


def test_the_amortized_inputs_are_the_columns_costquery_reads_for_each_line_type():
    for line_type, columns in AMORTIZED_INPUTS.items():
        case = (
            cur._AMORTIZED.split(f"WHEN '{line_type}' THEN ", 1)[1].split(" WHEN ", 1)[0].split(" ELSE ")[0]
        )
        assert {c for c in cur.CUR2_COLUMNS if c in case} == set(columns), line_type
