"""Model cards: what a checkpoint is, how it was made and what it scored, as markdown.

The CLI writes one beside every checkpoint; the app shows the chosen model's.
"""

from __future__ import annotations

import math

from vae.anomaly import generative_accuracy_key
from vae.models import VAEConfig


def model_card(config: VAEConfig, meta: dict) -> str:
    """A markdown model card from a checkpoint's config and metadata."""
    m = meta["metrics"]
    kind = f"conditional on {config.num_classes} classes" if config.conditional else "unconditional"
    if config.clusters:
        kind = f"clustering (a categorical latent of {config.clusters} clusters beside z, trained without labels)"
    if config.head_classes:
        kind = f"unconditional with a classifier head over {config.head_classes} labels (weight {config.head_weight:g})"
    article_arch = "An MLP" if config.arch == "mlp" else "A convolutional"
    done, planned = meta["epochs"], meta["settings"]["epochs"]
    status = {
        "finished": f"Training finished: all {planned} epochs ran.",
        "running": f"Saved while training was still running: the weights after epoch {done} of {planned}.",
        "interrupted": f"**Training was interrupted** (Ctrl-C) after epoch {done} of {planned}: "
        f"these are the weights from the end of epoch {done}.",
        "diverged": f"**Training diverged** in epoch {done + 1} of {planned}: "
        f"these are the last good weights, from the end of epoch {done}.",
    }[meta.get("status", "finished")]  # checkpoints from before VAE Lab 0.2 have no status: they finished
    eval_command = f"python -m vae eval checkpoints/{meta['name']}.pt"
    if "test_log_likelihood" not in m:
        log_likelihood = f"| log p(x), importance sampled | not measured: training did not finish (`{eval_command}`) |"
    elif not math.isfinite(m["test_log_likelihood"]):  # an autoencoder's q(z|x) is all but a point: weights overflow
        log_likelihood = (
            f"| log p(x), importance sampled (K={m['log_likelihood_k']}) | undefined: q(z\\|x) has collapsed "
            "to almost a point, so the importance weights are not finite |"
        )
    else:
        k, value = m["log_likelihood_k"], m["test_log_likelihood"]
        log_likelihood = f"| log p(x), importance sampled (K={k}) | {value:.2f} |"
    clusters = bool(meta["history"]) and "test_nmi" in meta["history"][0]
    rows = "\n".join(
        f"| {h['epoch']} | {h['train_total']:.2f} | {h.get('test_total', float('nan')):.2f} | "
        f"{h.get('test_recon', float('nan')):.2f} | {h.get('test_kl', float('nan')):.2f} | "
        + (
            f"{h.get('test_nmi', float('nan')):.3f} | {h.get('test_cluster_accuracy', float('nan')):.1%} | "
            if clusters
            else ""
        )
        + f"{h['elapsed_s']:.0f} |"
        for h in meta["history"]
    )
    history_head = (
        "| epoch | train −ELBO | test −ELBO | test recon | test KL | "
        + ("test NMI | test cluster accuracy | " if clusters else "")
        + "elapsed s |\n|---|---|---|---|---|"
        + ("---|---|" if clusters else "")
        + "---|"
    )
    sections = (
        _clusters_section(config, meta)
        + _ensemble_section(config, meta)
        + _classifier_section(config, meta)
        + _class_codes_section(meta)
        + _head_section(config, meta)
    )
    return f"""# Model card: `{meta["name"]}`

{article_arch} VAE, {kind}, latent dimension {config.latent_dim}, hidden {list(config.hidden)},{_fourier_note(config)}
{config.likelihood} likelihood, beta {config.beta:g}. Trained on {meta["dataset"]} classes {meta["classes"]}
({meta["train_images"]} training images), {done} epochs, seed {meta["seed"]}.{_settings_notes(meta)}

Status: {meta.get("status", "finished")}. {status}

## How it was made
```
{_commands(meta)}
```
Training took {meta["training_time_s"]:.0f} s on the machine that made it
(torch {meta["torch_version"]}, {meta["device"]}), {meta["created"]}.

## Test metrics ({m["test_images"]} held-out images of the same classes; nats per image)
| metric | value |
|---|---|
| −ELBO (reconstruction + KL) | {m["test_neg_elbo"]:.2f} |
| reconstruction (−log p(x\\|z)) | {m["test_recon"]:.2f} |
| KL(q(z\\|x) ‖ p(z)) | {m["test_kl"]:.2f} |
{log_likelihood}

Re-check with `{eval_command}`.
{sections}
## Training history
{history_head}
{rows}

Data: MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0) unless stated above.
"""


def _commands(meta: dict) -> str:
    """The commands that made the checkpoint: an ensemble's members' first, then the one that put them together."""
    members = [m["command"] for m in meta.get("members", []) if isinstance(m, dict) and isinstance(m["command"], str)]
    made = meta.get("command", "trained on the Train page of the VAE Lab app (settings in this card)")
    return "\n".join([*members, made])


def _ensemble_section(config: VAEConfig, meta: dict) -> str:
    """What an ensemble is made of, and how each member alone did as a classifier."""
    members = [m for m in meta.get("members", []) if isinstance(m, dict)]
    if config.members < 2 or not members:
        return ""
    rows = "\n".join(
        f"| {i + 1} | {m.get('seed')} | "
        + " | ".join(
            f"{m.get('metrics', {}).get(generative_accuracy_key(method), float('nan')):.2%}"
            for method in ("elbo", "shifted_elbo")
        )
        + " |"
        for i, m in enumerate(members)
    )
    return f"""
## An ensemble of {config.members} networks
The same command trained {config.members} networks alone, from seeds {", ".join(str(m.get("seed")) for m in members)};
this checkpoint holds them all, their weights rounded to half precision (float16) to keep the file small. As a
classifier its class scores are their mean: the seeds disagree on the digits each gets wrong. Its accuracy ("As a
classifier") was measured after rounding; each member's in this table alone, as it was trained. Pictures, codes,
the metrics above and the training history are the first network's (as trained).

| member | seed | alone, right by −ELBO | alone, by the shifted −ELBO |
|---|---|---|---|
{rows}
"""


def _restarts_line(meta: dict) -> str:
    """How the seed was chosen, when the CLI tried several (`--restarts`)."""
    restarts = meta.get("restarts")
    if not isinstance(restarts, dict) or not isinstance(restarts.get("probed"), dict):
        return ""
    tried = ", ".join(f"{seed}: {loss:.2f}" for seed, loss in restarts["probed"].items())
    return (
        f"Seed {restarts.get('chosen')} was chosen among {len(restarts['probed'])} by the training −ELBO after 3 "
        f"epochs (no label involved), as k-means keeps the best of several starts: {tried}.\n\n"
    )


def _settings_notes(meta: dict) -> str:
    """The training settings beyond plain Adam on grey images, and what they change."""
    return _binarize_note(meta) + _cosine_note(meta) + _discriminative_note(meta)


def _discriminative_note(meta: dict) -> str:
    """What the last epochs of a CVAE trained with a discriminative term added to the ELBO."""
    settings = meta.get("settings", {})
    weight, epochs = settings.get("discriminative_weight"), settings.get("discriminative_epochs")
    if not weight or not epochs:
        return ""
    return (
        f"\nThe last {epochs} epochs added {weight:g} × the cross-entropy of each image's label with the classes' "
        "−ELBOs as logits (the true class must explain the image better than the others), so their train −ELBO "
        "is the true class's."
    )


def _fourier_note(config: VAEConfig) -> str:
    if not config.fourier_features:
        return ""
    return (f" the decoder reading z through {config.fourier_features} random Fourier features "
            "([z, sin(Bz), cos(Bz)], B fixed),")  # fmt: skip


def _binarize_note(meta: dict) -> str:
    """Why the train and test −ELBO of a run with dynamic binarization are not on the same images."""
    if not meta.get("settings", {}).get("binarize"):
        return ""
    return (
        "\nDynamic binarization: each training batch's pixels were redrawn as 0 or 1 with their grey value as the "
        "probability, so the train −ELBO below is on those draws and the test −ELBO on the grey images."
    )


def _cosine_note(meta: dict) -> str:
    """The learning rate's schedule, when it was not constant."""
    settings = meta.get("settings", {})
    if not settings.get("cosine_lr"):
        return ""
    lr = settings.get("lr", 0)
    return f"\nThe learning rate fell along half a cosine from {lr:g} to a hundredth of it at the last epoch."


def _classifier_section(config: VAEConfig, meta: dict) -> str:
    """A conditional VAE as a generative classifier: how often the class it explains an image best by is right."""
    m = meta["metrics"]
    by_elbo = m.get(generative_accuracy_key("elbo"))
    if not config.conditional or by_elbo is None:
        return ""
    shifted = m.get(generative_accuracy_key("shifted_elbo"))
    by_shifted = (
        f"; by the lowest −ELBO of the digit placed up to a pixel away (the Anomaly lab's shifted score) on "
        f"**{shifted:.2%}**"
        if isinstance(shifted, float)
        else ""
    )
    return f"""
## As a classifier
Scored under each of its {config.num_classes} classes, the class with the lowest score is the model's guess (the
Anomaly lab's "explains it best as a …"). By the −ELBO it is right on **{by_elbo:.2%}** of the
{m["test_images"]} test images{by_shifted} (`python -m bench.generative_classifier` re-measures the shipped models).
"""


def _class_codes_section(meta: dict) -> str:
    """Where a CVAE's generations draw their codes from, when its class codes were fitted."""
    images = meta.get("class_codes_images")
    if not isinstance(images, int):
        return ""
    return f"""
## Generating
Each class's codes were fitted on the {images} training images: the mean and covariance of q(z|x, y) over the
class's images (`vae.generation.fit_class_codes`). The Generate page draws a class's digits from there by default,
or from the prior N(0, I), where the KL term pulled the codes but not all the way (`python -m bench.quality`
judges both).
"""


def _head_section(config: VAEConfig, meta: dict) -> str:
    """A VAE with a classifier head: its accuracy and, with classes left out, how well it tells them apart."""
    m = meta["metrics"]
    if not config.head_classes or "test_head_accuracy" not in m:
        return ""
    novelty, combined = "", "test_novelty_auroc_combined" in m
    if "test_novelty_auroc_head" in m:
        left_out = sorted(set(range(10)) - set(meta["classes"]))
        novelty = (
            f"\nNovelty: the test images of the classes it never saw ({', '.join(map(str, left_out))}) against those "
            f"above, AUROC **{m['test_novelty_auroc_head']:.4f}** by the head's energy (score `head`), "
            f"{m['test_novelty_auroc_ink']:.4f} by reconstruction error per unit of ink (score `ink`)"
            + (f", **{m['test_novelty_auroc_combined']:.4f}** by both (score `combined`)" if combined else "")
            + ".\n"
        )
    calibration = (
        f"\nScore `combined` = the head's energy + the ink score, each standardised by its mean and sd on "
        f"{meta['calibration_images']:,} training images set aside before training (never trained on): the head "
        "catches a new digit that looks like a known one, the ink score one the head confidently takes for a known "
        "class.\n"
        if "calibration_images" in meta
        else ""
    )
    return f"""
## Classifier head
The encoder's last layer also predicts the label, trained with {config.head_weight:g} × cross-entropy beside
the ELBO (seed 004's VAE + classifier). Accuracy on the {m["test_images"]} test images above:
**{m["test_head_accuracy"]:.2%}**.
{novelty}
Why: a reconstruction score forgives a new digit that is simple to draw (a 1) or close to a known one
(a 9 is a 4 or a 7 with a loop), while a head that must tell the known classes apart is unsure of it:
its energy −log Σ exp(logit) is high where no class it was taught fits.
{calibration}"""


def _clusters_section(config: VAEConfig, meta: dict) -> str:
    """A clustering VAE's clusters scored against the labels it never saw (empty for the other kinds)."""
    m, found = meta["metrics"], meta.get("clusters")
    if not config.clusters or "test_nmi" not in m or not isinstance(found, dict):
        return ""
    rows = "\n".join(
        f"| {k} | {matched} | {f'{majority} ({share:.0%})' if size else '— (empty)'} | {size} |"
        for k, (matched, majority, share, size) in enumerate(
            zip(found["matched_label"], found["majority_label"], found["majority_share"], found["size"], strict=True)
        )
    )
    return f"""
## Clusters found without labels
The model never saw a label. Scored against the {m["test_images"]} test labels afterwards: **NMI {m["test_nmi"]:.3f}**,
**cluster accuracy {m["test_cluster_accuracy"]:.1%}** (clusters matched one-to-one to labels, Hungarian algorithm).

| cluster | matched label | most common label (share) | test images |
|---|---|---|---|
{rows}

{_restarts_line(meta)}Why this model: the seed notebook's Gumbel VAE, the conditional VAE with its label replaced by a
Gumbel-softmax sample of q(y|x) (the JointVAE family): generating a cluster is then exactly what the
CVAE does with a class. The ELBO alone lets y carry style rather than the digit, so training rewards
I(x; y), keeps the clusters balanced and asks y to survive small rotations and shifts (`vae.clusters`);
a β above 1 on z's KL leaves more of the digit to y (β = 4 starves z and clustered worse: NMI 0.68 in a trial).
Mixture-prior models that keep y out of the decoder (GMVAE, VaDE) clustered worse in our trials on this
CPU budget (NMI 0.55–0.63 against 0.79–0.85), and could not draw a chosen cluster as directly.
"""


def tabular_card(config, meta: dict) -> str:
    """A markdown model card for a tabular model (`vae.tabular`), from its config and metadata."""
    results = meta["results"]
    names = meta["class_names"]
    rows = "\n".join(
        f"| {name} | {r['accuracy']:.2%} | {r['f1']:.3f} |"
        for name, r in results.items()
        if name != "selective_accuracy"
    )
    selective = "\n".join(
        f"| {coverage:.0%} | {accuracy:.2%} | {kept} |"
        for coverage, accuracy, kept in results.get("selective_accuracy", [])
    )
    confusion = results.get("VAE lab model", {}).get("confusion")
    confusion_rows = (
        "\n".join(f"| **{names[i]}** | " + " | ".join(str(v) for v in row) + " |" for i, row in enumerate(confusion))
        if confusion
        else ""
    )
    last = meta["history"][-1] if meta["history"] else {}
    return f"""# Model card: `{meta["name"]}`

A tabular VAE with a classifier head (seed 004's VAEC), mode `{config.mode}`, latent dimension
{config.latent_dim}, encoder widths {list(config.hidden)}, head width {config.head_hidden}, β {config.beta:g},
{config.epochs} epochs, learning rate {config.lr:g}, weight decay {config.weight_decay:g},
{"sign·log(1+|x|) then " if config.log_features else ""}standardised features (fitted on the training rows).
Data: {meta["dataset"]}, {meta["train_rows"]} training rows and {meta["test_rows"]} test rows
(stratified split, test fraction {meta["test_fraction"]:g}, seed {meta["seed"]}), {len(meta["feature_names"])} features,
classes {", ".join(names)}.

## How it was made
```
{meta.get("command", "trained in the Tabular lab of the VAE Lab app (settings in this card)")}
```
Training took {meta["training_time_s"]:.1f} s (torch {meta["torch_version"]}, CPU), {meta["created"]}.

## Test results (the same split for every model)
| model | accuracy | F1 |
|---|---|---|
{rows}

Final epoch: test prediction loss {last.get("test_pred", float("nan")):.3f}, reconstruction
{last.get("test_recon", float("nan")):.2f}, KL {last.get("test_kl", float("nan")):.2f} nats per row.

Confusion matrix (rows: true class, columns: predicted):

| | {" | ".join(names)} |
|---|{"---|" * len(names)}
{confusion_rows}

## Selective accuracy (rows ranked by how clearly their latent mean sits in the predicted class's region)
| coverage | accuracy | rows |
|---|---|---|
{selective}

Cross-validated figures: `python -m bench.tabular` (see the README's results table).
"""
