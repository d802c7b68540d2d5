"""The second shop's importer (bench/import_magento1.py): mysqldump value tuples, option labels, variants folded
into their parent, invisible products counted, the CSV read by the e-commerce pack's user-column path."""

from pathlib import Path

from bench.import_magento1 import import_dump, insert_rows


def _attr(attribute_id: int, entity_type: int, code: str, frontend: str = "text", source: str = "NULL") -> str:
    return f"({attribute_id},{entity_type},'{code}',NULL,NULL,'varchar',NULL,NULL,'{frontend}',NULL,NULL,{source})"


ATTRIBUTES = [
    _attr(1, 10, "name"), _attr(2, 10, "description"), _attr(3, 10, "visibility", "select",
    "'catalog/product_visibility'"), _attr(4, 10, "color", "select"), _attr(5, 10, "price"),
    _attr(6, 10, "shoe_size", "select"), _attr(7, 9, "name"),
]  # fmt: skip
DUMP = (
    "INSERT  INTO `eav_attribute` VALUES " + ",".join(ATTRIBUTES) + ";\n"
    "INSERT  INTO `eav_attribute_option_value` VALUES (1,20,0,'Black'),(2,21,0,'Red'),(3,30,0,'9'),(4,4,0,'Oops');\n"
    "INSERT  INTO `catalog_product_entity` VALUES (1,10,38,'configurable','shoe-1',NULL,NULL,0,0),"
    "(2,10,38,'simple','shoe-1-9',NULL,NULL,0,0),(3,10,38,'simple','hidden',NULL,NULL,0,0);\n"
    "INSERT  INTO `catalog_product_entity_varchar` VALUES (1,10,1,0,1,'Trail \\'Runner\\''),(2,10,1,0,2,'child'),"
    "(3,10,1,0,3,'hidden');\n"
    "INSERT  INTO `catalog_product_entity_text` VALUES "
    "(1,10,2,0,1,'<p>Light &amp; fast.</p><ul><li>Grippy.</li></ul>'),(2,10,2,1,1,'store view copy, ignored');\n"
    "INSERT  INTO `catalog_product_entity_decimal` VALUES (1,10,5,0,1,'89.5000');\n"
    "INSERT  INTO `catalog_product_entity_int` VALUES (1,10,3,0,1,4),(2,10,3,0,2,1),(3,10,3,0,3,1),"
    "(4,10,4,0,1,20),(5,10,4,0,2,21),(6,10,6,0,2,30);\n"
    "INSERT  INTO `catalog_product_super_link` VALUES (1,2,1);\n"
    "INSERT  INTO `catalog_category_entity` VALUES (1,9,0,0,NULL,NULL,'1',0,0,1),(2,9,0,1,NULL,NULL,'1/2',0,1,1),"
    "(3,9,0,2,NULL,NULL,'1/2/3',0,2,1),(4,9,0,3,NULL,NULL,'1/2/3/4',0,3,0);\n"
    "INSERT  INTO `catalog_category_entity_varchar` VALUES (1,9,7,0,3,'Shoes'),(2,9,7,0,4,'Trail'),"
    "(3,9,7,0,2,'Default Category');\n"
    "INSERT  INTO `catalog_category_product` VALUES (3,1,0),(4,1,0);\n"
)


def test_value_tuples_unescape_strings_and_read_null():
    rows = insert_rows("INSERT INTO `t` VALUES (1,'it\\'s','a''b',NULL),(2,'x\\ny','',3);", "t")
    assert rows == [["1", "it's", "a'b", None], ["2", "x\ny", "", "3"]]


def test_import_folds_variants_and_counts_what_it_leaves_out(tmp_path: Path):
    dump = tmp_path / "dump.sql"
    dump.write_text(DUMP)
    rows, report = import_dump(dump)
    assert report == {
        "products_in_dump": 3, "not_visible_alone_left_out": 2, "of_which_variants_folded_into_a_parent": 1,
        "products_written": 1, "products_sharing_a_description": 0,
    }  # fmt: skip
    (row,) = rows
    assert row["id"] == "shoe-1" and row["name"] == "Trail 'Runner'"
    assert row["category"] == "Shoes > Trail"
    assert row["price"] == "$89.50"
    assert row["color"] == "Red"  # the variants' colours replace the parent's own
    assert row["shoe_size"] == "9"
    assert row["description"] == "Light & fast.\n- Grippy."


def test_the_csv_trains_through_the_user_column_path(tmp_path: Path):
    import csv

    from core.pack import get_pack

    dump = tmp_path / "dump.sql"
    dump.write_text(DUMP)
    rows, _ = import_dump(dump)
    out = tmp_path / "shop.csv"
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "group", "name", "category", "price", "color", "description"],
                                extrasaction="ignore")  # fmt: skip
        writer.writeheader()
        writer.writerows(rows)
    pack = get_pack("ecommerce", {"attribute_columns": "name,category,price,color"})
    (example,) = pack.load(out).examples
    assert example.text.splitlines()[0] == "Name: Trail 'Runner'" and "Color: Red" in example.text
