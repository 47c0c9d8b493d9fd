"""`autoenc retrain` / `autoenc predict` and autoenc.retrain / load_classifier: a held-out
end-to-end check (retrain on a cache, predict image files of another split), the classifier
directory's integrity, distortions, and one-line errors with nothing half-written."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from autoenc.cli.main import main
from autoenc.core.errors import UserError


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def train_cache(tmp_path_factory, trained_ckpt, digits_dm):
    from autoenc.features import extract_features

    return extract_features(str(trained_ckpt), digits_dm, tmp_path_factory.mktemp("c") / "train", split="train")


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory, train_cache):
    from autoenc.features.retrain import retrain

    out = tmp_path_factory.mktemp("clf") / "digits"
    retrain(train_cache, out=out, epochs=100)
    return out


def _write_pngs(images, folder, size=None, rgb=False):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, image in enumerate(images):
        im = Image.fromarray(image[0].numpy(), "L")
        if size:
            im = im.resize((size, size), Image.Resampling.BILINEAR)
        if rgb:
            im = im.convert("RGB")
        files.append(folder / f"{i:04d}.png")
        im.save(files[-1])
    return files


def test_retrain_result(train_cache):
    from autoenc.features.retrain import retrain

    result = retrain(train_cache, epochs=100)
    assert result.n_train + result.n_val + result.n_test == len(train_cache)
    assert result.ci_low <= result.accuracy <= result.ci_high
    assert result.accuracy > result.chance + 0.5, result.summary()
    assert set(result.per_class) == {str(i) for i in range(10)}
    assert sum(row["support"] for row in result.per_class.values()) == result.n_test
    assert 1 <= result.best_epoch <= result.epochs <= 100
    hidden = retrain(train_cache, epochs=50, hidden=16)
    assert hidden.classifier.head.hidden == 16 and hidden.accuracy > hidden.chance + 0.4


def test_held_out_files_end_to_end(capsys, classifier_dir, digits_dm, tmp_path):
    """Predict PNG files written from the validation split (never in the cache) through the CLI."""
    val = digits_dm.arrays("val")
    n = 150
    files = _write_pngs(val.images[:n], tmp_path / "val")
    code, out, err = _run(capsys, "predict", str(classifier_dir), str(tmp_path / "val"), "--csv",
                          str(tmp_path / "p.csv"), "--top_k", "2")
    assert code == 0 and err == ""
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert len(rows) == 2 * n and set(rows[0]) == {"path", "label", "probability"}
    top1 = {r["path"]: r["label"] for r in rows[::2]}
    truth = {str(f): str(int(t)) for f, t in zip(files, val.targets[:n], strict=True)}
    accuracy = np.mean([top1[f] == truth[f] for f in truth])
    assert accuracy > 0.6, accuracy  # chance is about 0.1
    probs = [float(r["probability"]) for r in rows]
    assert all(probs[i] >= probs[i + 1] for i in range(0, len(probs), 2))
    assert len(out.strip().splitlines()) == n


def test_python_api_other_sizes(classifier_dir, digits_dm):
    import autoenc

    clf = autoenc.load_classifier(classifier_dir)
    val = digits_dm.arrays("val")
    x = val.images[:100]
    labels = clf.predict(x)
    assert len(labels) == 100 and set(labels) <= set(clf.class_names)
    proba = clf.predict_proba(x)
    assert proba.shape == (100, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)
    # 16 x 16 RGB versions of the same images go through the classifier's preprocessing
    big = torch.nn.functional.interpolate(x.float(), size=16, mode="bilinear").round().to(torch.uint8)
    rgb = big.expand(-1, 3, -1, -1)
    agree = np.mean(np.array(clf.predict(rgb)) == np.array(labels))
    assert agree > 0.7, agree
    assert clf.predict_proba(x.float() / 255).shape == (100, 10)


def test_unreadable_image_named_others_predicted(capsys, classifier_dir, digits_dm, tmp_path):
    _write_pngs(digits_dm.arrays("val").images[:3], tmp_path / "imgs", size=20, rgb=True)
    (tmp_path / "imgs" / "broken.png").write_bytes(b"not an image")
    code, out, err = _run(capsys, "predict", str(classifier_dir), str(tmp_path / "imgs"),
                          str(tmp_path / "missing.png"))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "broken.png" in lines[1] + lines[0] and "missing.png" in err
    assert len(out.strip().splitlines()) == 3


def test_edited_directory_refused(classifier_dir, tmp_path):
    import shutil

    from autoenc.features.classifier import HEAD, META, load_classifier

    for name, edit in ((META, lambda p: p.write_text(p.read_text().replace('"0"', '"zero"', 1))),
                       (HEAD, lambda p: p.write_bytes(p.read_bytes()[:-4] + b"\0\0\0\0"))):
        copy = tmp_path / name.replace(".", "_")
        shutil.copytree(classifier_dir, copy)
        edit(copy / name)
        with pytest.raises(UserError, match=f"{name} was edited"):
            load_classifier(copy)
    with pytest.raises(UserError, match="no classifier.json"):
        load_classifier(tmp_path)  # a directory of directories
    with pytest.raises(UserError, match="no such directory"):
        load_classifier(tmp_path / "nothing")


def test_changed_encoder_refused(classifier_dir):
    from autoenc.features.classifier import load_classifier

    clf = load_classifier(classifier_dir)
    clf.encoder_ref = {**clf.encoder_ref, "sha256": "0" * 64}
    with pytest.raises(UserError, match="other weights than the classifier was trained on"):
        clf.encoder  # noqa: B018
    assert load_classifier(classifier_dir).encoder is not None


def test_distortions_encode_each_epoch(capsys, train_cache, tmp_path, monkeypatch):
    from autoenc.features import retrain as module
    from autoenc.features.distort import Distortions

    calls = []
    original = module.cache_images
    monkeypatch.setattr(module, "cache_images", lambda cache: calls.append(1) or original(cache))
    result = module.retrain(train_cache, epochs=3, patience=3, distortions=Distortions(crop=0.1, flip=True,
                                                                                      brightness=0.2))
    assert calls and result.distortions["flip"] and result.accuracy > result.chance
    code, out, _ = _run(capsys, "retrain", str(train_cache.path), "--out", str(tmp_path / "d"), "--epochs", "2",
                        "--random_crop", "0.1")
    assert code == 0 and out.startswith("distortions on: each epoch encodes")
    code, out, _ = _run(capsys, "retrain", str(train_cache.path), "--out", str(tmp_path / "e"), "--epochs", "2")
    assert code == 0 and out.startswith("training on the cached features")
    meta = json.loads((tmp_path / "e" / "classifier.json").read_text())
    assert meta["class_names"] == [str(i) for i in range(10)] and meta["encoder"]["sha256"]


def test_distortions_change_images():
    from autoenc.features.distort import Distortions

    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(Distortions()(x), x)
    y = Distortions(crop=0.2, scale=0.2, flip=True, brightness=0.2)(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not torch.equal(x, y) and 0 <= y.min() and y.max() <= 1
    flipped = Distortions(flip=True)(x, torch.Generator().manual_seed(1))
    assert all(torch.allclose(f, o) or torch.allclose(f, o.flip(-1)) for f, o in zip(flipped, x, strict=True))
    with pytest.raises(UserError, match="crop must be a number in"):
        Distortions(crop=1.5)


def _cache_from(tmp_path, name, targets):
    from autoenc.data.source import ImageArrays
    from autoenc.features import extract_features
    from autoenc.features.encoders import FrozenEncoder

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (60, 1, 8, 8), dtype=torch.uint8, generator=g)

    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4))
    encoder = FrozenEncoder(net, source="test-net", layer="out", input_shape=(1, 8, 8))
    return extract_features(encoder, ImageArrays(images, targets), tmp_path / name)


@pytest.mark.parametrize("argv_extra, match", [
    ((), "has no targets"),
])
def test_bad_input_one_line(capsys, tmp_path, argv_extra, match):
    cache = _cache_from(tmp_path, "nolabels", None)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = _run(capsys, "retrain", str(cache.path), "--out", str(tmp_path / "out"), *argv_extra)
    assert code == 2 and len(err.strip().splitlines()) == 1 and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_inputs(capsys, tmp_path, classifier_dir, train_cache):
    one = _cache_from(tmp_path, "one", torch.zeros(60, dtype=torch.int64))
    unnamed = _cache_from(tmp_path, "unnamed", torch.arange(60) % 3)
    cases = [
        (("retrain", str(unnamed.path), "--out", str(tmp_path / "o0")), "not a path that exists here"),
        (("retrain", str(one.path), "--out", str(tmp_path / "o1")), "one class only"),
        (("retrain", str(train_cache.path), "--out", str(classifier_dir)), "already exists"),
        (("retrain", str(train_cache.path), "--out", str(tmp_path / "o2"), "--hidden", "0"), "hidden must be"),
        (("retrain", str(train_cache.path), "--out", str(tmp_path / "o3"), "--test_fraction", "0.6",
          "--val_fraction", "0.5"), "must be < 1"),
        (("predict", str(tmp_path), str(tmp_path)), "not a usable classifier directory"),
        (("predict", str(classifier_dir), str(tmp_path), "--top_k", "11"), "--top_k must be an integer in [1, 10]"),
    ]
    for argv, match in cases:
        before = sorted(p.name for p in tmp_path.iterdir())
        code, _, err = _run(capsys, *argv)
        assert code == 2 and len(err.strip().splitlines()) == 1 and match in err, (argv, err)
        assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_torchvision_encoder_by_reference(tmp_path, digits_dm):
    """A cache of a torchvision backbone (random weights, seed 3, resized): the classifier names the
    model, node, seed and size, and loads the same encoder again (sha256 checked)."""
    from autoenc.data.source import ImageArrays
    from autoenc.features import extract_features, load_encoder
    from autoenc.features.classifier import load_classifier
    from autoenc.features.retrain import retrain

    arrays = digits_dm.arrays("val")
    data = ImageArrays(arrays.images[:200], arrays.targets[:200], arrays.target_names)
    encoder = load_encoder("torchvision:resnet18:layer1.1.relu_1", seed=3, image_size=16)
    cache = extract_features(encoder, data, tmp_path / "cache")
    retrain(cache, out=tmp_path / "clf", epochs=20)
    clf = load_classifier(tmp_path / "clf")
    ref = clf.encoder_ref
    assert ref["source"] == "torchvision:resnet18:layer1.1.relu_1" and ref["options"] == {"pool": "avg", "image_size": 16,
                                                                                   "seed": 3}
    assert clf.encoder.sha256 == encoder.sha256
    assert clf.predict_proba(arrays.images[:5]).shape == (5, 10)
