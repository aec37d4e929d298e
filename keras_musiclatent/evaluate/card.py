"""Model cards: the figures of ``musiclatent evaluate`` as a Markdown page."""

from __future__ import annotations

from typing import Any

from keras_musiclatent.evaluate.rate_quality import Aim, aims_markdown, rate_quality_markdown

__all__ = ["render_card"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _peer_rows(genre: dict[str, Any]) -> list[str]:
    """The pretrained peer's row of the genre table (none when the peer was skipped)."""
    peer = genre.get("peer")
    if not peer or peer.get("accuracy") is None:
        return []
    return [
        f"| {peer['model']} embeddings ({peer['embedding_dim']}-d, pretrained peer) + logistic "
        f"regression | {_pct(peer['accuracy'])} |"
    ]


def _peer_note(genre: dict[str, Any]) -> list[str]:
    note = genre.get("peer_note")
    return [f"No pretrained peer row: {note}.", ""] if note else []


def _time_rows(rec: dict[str, Any]) -> list[str]:
    """Rows of a model with a time-varying latent: both latents beside PCA, same numbers."""
    if "global_time_rmse_db" not in rec:
        return []
    steps, dim = rec["time_latent"]
    n = rec["numbers_per_segment"]
    return [
        f"| global + time-varying latent ({n} numbers: + {steps} steps x {dim}) "
        f"| **{rec['global_time_rmse_db']:.2f}** |",
        f"| PCA, same numbers per segment ({rec['pca_same_numbers_components']}"
        f"{'' if rec['pca_same_numbers_components'] == n else ': fewer training segments'}) "
        f"| {rec['pca_same_numbers_rmse_db']:.2f} |",
    ]


def _time_note(rec: dict[str, Any]) -> list[str]:
    if "global_time_rmse_db" not in rec:
        return []
    return [
        "",
        "The latent RMSE row decodes the global latent alone (the time-varying latent at its "
        "prior's mean); with both latents the RMSE is "
        f"{_pct(rec['reduction_vs_pca_same_numbers'])} lower than PCA's with as many numbers "
        "(negative: higher). The audio row inverts the decode of both.",
    ]


def _compression_lines(comp: dict[str, Any], rq: dict[str, Any] | None) -> list[str]:
    if rq:
        return [
            "The `.mlz` v2 stream holds both latents, quantised at the chosen precision and "
            "entropy-coded under priors fitted on the training codes; its real rates are in "
            "the rate-and-quality table below."
        ]
    return [
        f"{comp['bits_per_dim']} bits per dimension: **{comp['bitrate_bps']:.0f} bit/s** "
        f"(ratio {comp['ratio_to_pcm16']:.0f}:1 to 16-bit PCM at 22050 Hz), plus the "
        "`.mlz` header per file."
    ]


def _rate_quality_section(rq: dict[str, Any] | None, plot: str | None) -> list[str]:
    if not rq:
        return []
    lines = [
        "",
        f"## Rate and quality, judged as a listener would ({len(rq['clips'])} whole clips)",
        "",
        "Each clip goes through every operating point of the `.mlz` stream (`musiclatent "
        "compress --bits B` / `--kbps X`, then `decompress`), through the log-mel inversion "
        "alone (the ceiling of any decoder here), and through Opus and MP3 (ffmpeg). The rate "
        "is the real file size over the clip's duration; measures are defined in "
        "docs/evaluation.md.",
        "",
        rate_quality_markdown(rq["rows"], note=rq.get("note")).strip(),
        "",
    ]
    if plot:
        lines += [f"![rate and quality]({plot})", ""]
    found = [Aim(**a) for a in rq.get("aims", [])]
    if found:
        lines += ["### Aims at 1 kbit/s or less", "", aims_markdown(found).strip()]
    return lines


def render_card(
    result: dict[str, Any],
    *,
    command: str,
    metadata: dict[str, Any],
    ablation: str | None = None,
    rate_quality_plot: str | None = None,
) -> str:
    """Markdown card of an :func:`~keras_musiclatent.evaluate.evaluator.evaluate_space` result.

    Args:
        result: the evaluation result.
        command: the command that produced it (printed so anyone can rerun it).
        metadata: the model's ``metadata.json``.
        ablation: a Markdown ablation table (``scripts/ablation.py``), shown as its own
            section.
        rate_quality_plot: file name (beside the card) of the rate–quality plot of
            ``result["rate_quality"]``.
    """
    rec, comp, genre = result["reconstruction"], result["compression"], result["genre"]
    lines = [
        f"# {result['model']}",
        "",
        metadata.get("description", ""),
        "",
        f"- class: `{result['class']}`, {result['parameters']:,} parameters, "
        f"{result['latent_dim']}-d latent per {metadata.get('segment_seconds', 3.0):g}-s segment",
        f"- training data: {metadata.get('data', 'unknown')}",
        f"- created: {metadata.get('created', 'unknown')}; versions: "
        + ", ".join(f"{k} {v}" for k, v in metadata.get("versions", {}).items()),
        "",
        "Every figure below comes from one run of:",
        "",
        "```bash",
        command,
        "```",
        "",
        f"on {result['test_clips']} clips / {result['test_segments']} segments of the "
        f"`{result.get('split', 'valid')}` split. Baselines are fitted in the same run: the "
        f"genre baselines on {result['train_segments']} labelled training segments, PCA on "
        "those plus the unlabelled extra split the model also trained on "
        f"({result['seconds']:.0f} s in all).",
        "",
        "## Reconstruction (spectral RMSE, dB, lower is better)",
        "",
        "| what | dB |",
        "|---|---|",
        f"| latent RMSE (decoder output) | **{rec['latent_rmse_db']:.2f}** |",
        f"| PCA, same dimensions ({result['latent_dim']}) | {rec['pca_same_dims_rmse_db']:.2f} |",
        f"| PCA, same bitrate ({comp['bits_per_dim']}-bit coefficients) "
        f"| {rec['pca_same_bitrate_rmse_db']:.2f} |",
        *_time_rows(rec),
        f"| audio RMSE (after inversion, {rec['audio_segments']} segments) "
        f"| {rec['audio_rmse_db']:.2f} |",
        f"| inversion alone (original log-mel -> audio) | {rec['inversion_only_rmse_db']:.2f} |",
        "",
        f"Latent RMSE vs PCA at equal dimensions: {_pct(rec['reduction_vs_pca'])} lower "
        "(negative: higher). Active units: "
        f"{result['active_units']} / {result['latent_dim']}.",
        *_time_note(rec),
        "",
        "## Compression",
        "",
        *_compression_lines(comp, result.get("rate_quality")),
        "",
        "## Genre (clip level, latent probe = logistic regression on latent means)",
        "",
        "| classifier | accuracy |",
        "|---|---|",
        f"| latent probe ({genre['head']}) | **{_pct(genre['latent_probe']['accuracy'])}** |",
        f"| MFCC mean+std (20 coefficients) + logistic regression "
        f"| {_pct(genre['mfcc_logistic']['accuracy'])} |",
        *_peer_rows(genre),
        f"| chance | {_pct(genre['chance'])} |",
        "",
        *_peer_note(genre),
    ]
    peer = genre.get("peer") if _peer_rows(genre) else None
    if peer:
        header = f"| genre | latent probe | MFCC baseline | {peer['model']} |"
        lines += [header, "|---|---|---|---|"]
    else:
        lines += ["| genre | latent probe | MFCC baseline |", "|---|---|---|"]
    for g in genre["genres"]:
        lp = genre["latent_probe"]["per_genre"].get(g)
        mf = genre["mfcc_logistic"]["per_genre"].get(g)
        if lp is None:
            continue
        row = f"| {g} | {_pct(lp)} | {_pct(mf)} |"
        if peer:
            pp = peer["per_genre"].get(g)
            row += f" {'' if pp is None else _pct(pp)} |"
        lines.append(row)
    interp = result.get("interpolation")
    if interp:
        lines += [
            "",
            f"## Interpolation ({interp['pairs']} pairs of clips of different genres, "
            f"{interp['steps']} steps)",
            "",
            "Smoothness: max step / mean step (1.0 = even). Realism: RMS dB distance of the "
            "inner steps to the nearest real training segment, and the genre head's confidence "
            "on them (re-encoded; through audio for a model that encodes waveforms). A model "
            "with a time-varying latent keeps the first clip's on every step.",
            "",
            "| path | smoothness | nearest training segment (dB) | genre confidence |",
            "|---|---|---|---|",
        ]
        for name in ("slerp", "lerp", "crossfade"):
            e = interp[name]
            conf = e.get("genre_confidence")
            lines.append(
                f"| {name if name != 'crossfade' else 'data-space crossfade (baseline)'} "
                f"| {e['smoothness']:.3f} | {e['nearest_train_db']:.2f} "
                f"| {'' if conf is None else _pct(conf)} |"
            )
    lines += _rate_quality_section(result.get("rate_quality"), rate_quality_plot)
    if ablation:
        lines += [
            "",
            "## Ablation (each ingredient on its own, GTZAN valid)",
            "",
            "Every row trains the model's recipe with the settings shown changed, then "
            "evaluates the run the same way; `scripts/ablation.py` reruns them all.",
            "",
            ablation.strip(),
        ]
    lines += [""]
    return "\n".join(lines)
