"""COCO captions, NoCaps and Karpathy (Flickr30K) readers on fixtures in their formats."""

from instructvl.data.formats import read_dataset

from .fixtures import make_images, write_json


def test_coco_captions_groups_all_captions_per_image(tmp_path):
    images = make_images(tmp_path / "val2014", "COCO_val2014_000000000042.jpg", "COCO_val2014_000000000073.jpg")
    ann = write_json(tmp_path / "captions_val2014.json", {
        "info": {}, "licenses": [],
        "images": [
            {"id": 42, "file_name": "COCO_val2014_000000000042.jpg", "width": 640, "height": 480},
            {"id": 73, "file_name": "COCO_val2014_000000000073.jpg", "width": 640, "height": 480},
        ],
        "annotations": [
            {"id": 1, "image_id": 42, "caption": "A dog on a couch. "},
            {"id": 2, "image_id": 73, "caption": "Two cats."},
            {"id": 3, "image_id": 42, "caption": "A brown dog lying down."},
        ],
    })  # fmt: skip
    result = read_dataset("coco_captions", ann, tmp_path / "val2014")
    assert not result.skipped
    first, second = result.samples
    assert (first.id, first.dataset, first.images) == ("42", "coco_captions", [images[0]])
    assert first.references == ["A dog on a couch.", "A brown dog lying down."]
    assert first.turns == [] and first.metadata["task"] == "caption"
    assert second.references == ["Two cats."]


def test_nocaps_keeps_domain_and_test_split_without_captions(tmp_path):
    make_images(tmp_path, "0013ea2087020901.jpg")
    ann = write_json(tmp_path / "nocaps_test_image_info.json", {
        "images": [{"id": 0, "file_name": "0013ea2087020901.jpg", "domain": "in-domain",
                    "open_images_id": "0013ea2087020901", "coco_url": "https://x/y.jpg"}],
    })  # fmt: skip
    (sample,) = read_dataset("nocaps", ann).samples
    assert sample.references is None
    assert sample.metadata["domain"] == "in-domain"
    assert sample.metadata["open_images_id"] == "0013ea2087020901"


def test_karpathy_flickr30k_split_filter_and_references(tmp_path):
    make_images(tmp_path / "flickr30k-images", "1000092795.jpg", "10002456.jpg")
    sentences = [{"tokens": ["a", "man"], "raw": f"A man {i}.", "imgid": 0, "sentid": i} for i in range(5)]
    ann = write_json(tmp_path / "dataset_flickr30k.json", {"dataset": "flickr30k", "images": [
        {"sentids": [0, 1, 2, 3, 4], "imgid": 0, "sentences": sentences, "split": "test", "filename": "1000092795.jpg"},
        {"sentids": [5], "imgid": 1, "sentences": [{"raw": "Dogs.", "tokens": ["dogs"]}], "split": "train",
         "filename": "10002456.jpg"},
    ]})  # fmt: skip
    result = read_dataset("flickr30k", ann, tmp_path / "flickr30k-images", split="test")
    (sample,) = result.samples
    assert sample.id == "0" and sample.references == [f"A man {i}." for i in range(5)]
    assert sample.images == [str(tmp_path / "flickr30k-images" / "1000092795.jpg")]
    assert result.filtered == {"not in split 'test'": 1}


def test_karpathy_coco_uses_filepath_and_cocoid(tmp_path):
    make_images(tmp_path, "val2014/COCO_val2014_000000391895.jpg")
    ann = write_json(tmp_path / "dataset_coco.json", {"dataset": "coco", "images": [
        {"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg", "imgid": 0, "split": "test",
         "sentences": [{"raw": "A man riding a bike."}], "cocoid": 391895},
    ]})  # fmt: skip
    (sample,) = read_dataset("karpathy", ann).samples
    assert sample.id == "391895"
    assert sample.images == [str(tmp_path / "val2014" / "COCO_val2014_000000391895.jpg")]
