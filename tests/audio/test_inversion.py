"""Log-mel → audio inversion: quality (audio RMSE of docs/evaluation.md), batching, parity,
errors."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from keras_musiclatent.audio import inversion
from keras_musiclatent.errors import InvalidAudioError, MusicLatentError
from keras_musiclatent.evaluate import metrics

SR = 22050


def harmonic_clips(n: int, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Harmonic tones with vibrato, a rhythmic envelope and a little noise: ``(n, samples)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * SR))) / SR
    f0 = rng.uniform(100.0, 500.0, size=(n, 1))
    vibrato = 1.0 + 0.01 * np.sin(2 * np.pi * 5.0 * t)
    y = sum(np.sin(2 * np.pi * h * f0 * np.cumsum(vibrato) / SR) / h for h in range(1, 6))
    beat = np.exp(-((t * rng.uniform(1.5, 3.0, size=(n, 1))) % 1.0) * 5.0)
    y = 0.2 * y * beat + 0.01 * rng.standard_normal(y.shape)
    return y.astype(np.float32)


def audio_rmse(target_db: np.ndarray, audio: np.ndarray) -> np.ndarray:
    return metrics.spectral_rmse_db(target_db, metrics.logmel_db(audio))


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    return harmonic_clips(2)


@pytest.fixture(scope="module")
def target(clips) -> np.ndarray:
    return metrics.logmel_db(clips)


@pytest.fixture(scope="module")
def inverted(target, clips) -> np.ndarray:
    return inversion.logmel_to_audio(target, length=clips.shape[1])


# --- quality -------------------------------------------------------------------------------


def test_audio_rmse_on_synthetic_music(target, inverted):
    err = audio_rmse(target, inverted)
    # About 0.75 dB here; plain Griffin-Lim on the same power ~1.1 dB, pseudo-inverse ~4 dB.
    assert err.max() < 1.0, err
    assert inverted.dtype == np.float32 and np.isfinite(inverted).all()


def test_beats_the_two_stage_baselines(target, clips, inverted):
    length = clips.shape[1]
    ours = audio_rmse(target, inverted).mean()
    plain = inversion.logmel_to_audio(target, length=length, mel_consistent=False)
    pinv = inversion.logmel_to_audio(target, length=length, mel_consistent=False, nnls_iterations=0)
    plain_err = audio_rmse(target, plain).mean()
    pinv_err = audio_rmse(target, pinv).mean()
    assert ours < plain_err - 0.2, (ours, plain_err)
    assert plain_err < pinv_err - 1.0, (plain_err, pinv_err)


def test_more_iterations_lower_the_error(target, clips, inverted):
    few = inversion.logmel_to_audio(target[:1], length=clips.shape[1], n_iter=8)
    assert audio_rmse(target[:1], inverted[:1]) < audio_rmse(target[:1], few) - 0.2


def test_level_is_kept(target, clips, inverted):
    # The inversion is scale-free: +20 dB in is 10x the amplitude out.
    louder = inversion.logmel_to_audio(target[:1] + 20.0, length=clips.shape[1])
    # (float32 rounding of the dB values is amplified a little by the iterations)
    np.testing.assert_allclose(louder, 10.0 * inverted[:1], rtol=0, atol=1e-3)
    rms = np.sqrt(np.mean(inverted**2, axis=1))
    ref = np.sqrt(np.mean(clips**2, axis=1))
    np.testing.assert_allclose(rms, ref, rtol=0.15)


@pytest.mark.gtzan
def test_audio_rmse_on_real_music(gtzan_root):
    from keras_musiclatent import audio

    paths = [sorted((gtzan_root / g).glob("*.ogg"))[:1] for g in ("blues", "classical", "metal")]
    segments = []
    for (path,) in (p for p in paths if p):
        windows, _ = audio.segment(audio.load(path))
        segments.append(windows[len(windows) // 2])
    if not segments:
        pytest.skip("no GTZAN .ogg clips in the expected genre folders")
    clips = np.stack(segments)
    target = metrics.logmel_db(clips)
    err = audio_rmse(target, inversion.logmel_to_audio(target, length=clips.shape[1]))
    # Measured 0.3-0.9 dB on GTZAN (mean about 0.5): per-frame NNLS + Griffin-Lim gives ~2.4 dB.
    assert err.mean() < 0.8 and err.max() < 1.2, err


# --- batching, determinism, shapes ---------------------------------------------------------


def test_batched_equals_unbatched(target, clips, inverted):
    one = inversion.logmel_to_audio(target[1], length=clips.shape[1])
    assert one.shape == (clips.shape[1],)
    np.testing.assert_allclose(inverted[1], one, rtol=0, atol=1e-6)


def test_seeded(target):
    a = inversion.logmel_to_audio(target[0, :20], n_iter=4, seed=1)
    b = inversion.logmel_to_audio(target[0, :20], n_iter=4, seed=1)
    c = inversion.logmel_to_audio(target[0, :20], n_iter=4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("length", [None, 1000, 20 * 512 + 700, 40_000])
def test_any_output_length(target, length):
    y = inversion.logmel_to_audio(target[:, :20], n_iter=2, length=length)
    assert y.shape == (2, 19 * 512 if length is None else length)
    assert np.isfinite(y).all()


def test_other_recipe_and_silence():
    db = np.full((2, 12, 40), -100.0, np.float32)
    db[0] = -30.0
    y = inversion.logmel_to_audio(db, sample_rate=16000, n_fft=1000, hop_length=300, n_iter=4)
    assert y.shape == (2, 11 * 300)
    assert np.isfinite(y).all()
    # -100 dB is 1e-5 in amplitude: silence stays (nearly) silent.
    assert np.abs(y[1]).max() < 1e-3 < np.abs(y[0]).max()


@pytest.mark.parametrize(
    "bad",
    [np.zeros(128, np.float32), np.zeros((1, 1, 5, 128), np.float32), np.zeros((0, 128))],
    ids=["1-d", "4-d", "empty"],
)
def test_bad_shapes(bad):
    with pytest.raises(InvalidAudioError):
        inversion.logmel_to_audio(bad)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_log_mel(value):
    db = np.full((10, 128), -40.0, np.float32)
    db[3, 4] = value
    with pytest.raises(InvalidAudioError, match="NaN or infinite"):
        inversion.logmel_to_audio(db)


def test_bad_settings_are_typed_errors():
    db = np.full((10, 128), -40.0, np.float32)
    for kwargs in ({"n_iter": -1}, {"hop_length": 0}):
        with pytest.raises(InvalidAudioError) as info:
            inversion.logmel_to_audio(db, **kwargs)
        assert isinstance(info.value, (MusicLatentError, ValueError))


# --- mel → linear power --------------------------------------------------------------------


@pytest.fixture(scope="module")
def filterbank() -> np.ndarray:
    return librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128)


def test_mel_to_power_zero_iterations_is_clipped_pinv(filterbank, target):
    mel = np.power(10.0, target[0, :10] / 10.0)
    expected = np.maximum(mel @ np.linalg.pinv(filterbank).T, 0.0)
    got = inversion.mel_to_power(mel, filterbank, iterations=0)
    assert got.shape == (10, 1025) and got.dtype == np.float32
    # float32 products against the float64 reference: equal to 1e-4 of each frame's peak.
    tol = 1e-4 * expected.max(axis=1, keepdims=True)
    assert (np.abs(got - expected) <= tol).all()


def test_mel_to_power_fits_the_mel_in_db(filterbank, target):
    mel = np.power(10.0, target[:, 40:60] / 10.0)  # (2, 20, 128)
    errors = []
    for iterations in (0, 10, 100):
        power = inversion.mel_to_power(mel, filterbank, iterations=iterations)
        assert power.shape == (2, 20, 1025) and (power >= 0).all()
        fit = power @ filterbank.T
        errors.append(metrics.spectral_rmse_db(10 * np.log10(mel), 10 * np.log10(fit)).max())
    assert errors[2] < errors[1] < errors[0]
    assert errors[2] < 0.5, errors


def test_mel_to_power_zero_frames_and_levels(filterbank):
    mel = np.zeros((3, 128), np.float32)
    mel[1] = np.linspace(1e-6, 1e-3, 128)
    mel[2] = mel[1] * 1e8
    power = inversion.mel_to_power(mel, filterbank, iterations=20)
    assert not power[0].any()
    np.testing.assert_allclose(power[2], power[1] * 1e8, rtol=1e-4)


def test_mel_to_power_rejects_bad_input(filterbank):
    with pytest.raises(InvalidAudioError, match="128 mels"):
        inversion.mel_to_power(np.ones((4, 64)), filterbank)
    with pytest.raises(InvalidAudioError, match="non-negative"):
        inversion.mel_to_power(-np.ones((4, 128)), filterbank)


# --- STFT and Griffin-Lim ------------------------------------------------------------------


@pytest.mark.parametrize(("n_fft", "hop"), [(2048, 512), (1000, 300)])
def test_internal_stft_matches_librosa_and_round_trips(rng, n_fft, hop):
    y = rng.standard_normal(9000).astype(np.float32)
    frames = 1 + len(y) // hop
    stft = inversion._Stft(n_fft, hop, frames, len(y))
    buffer = np.zeros((1, stft.buffer), np.float32)
    buffer[0, stft.pad : stft.pad + len(y)] = y
    spec = stft.forward(buffer)
    expected = librosa.stft(y, n_fft=n_fft, hop_length=hop).T
    np.testing.assert_allclose(spec[0], expected, atol=2e-3 * np.abs(expected).max())
    np.testing.assert_allclose(stft.signal(stft.inverse(spec))[0], y, atol=1e-5)


def test_griffin_lim_recovers_a_consistent_magnitude(clips):
    y = clips[0, :22050]
    mag = np.abs(librosa.stft(y, n_fft=2048, hop_length=512)).T
    out = inversion.griffin_lim(mag, n_iter=64, length=len(y))
    assert out.shape == y.shape
    rebuilt = np.abs(librosa.stft(out, n_fft=2048, hop_length=512)).T
    convergence = np.linalg.norm(rebuilt - mag) / np.linalg.norm(mag)
    ours_8 = inversion.griffin_lim(mag, n_iter=8, length=len(y))
    conv_8 = np.linalg.norm(np.abs(librosa.stft(ours_8, hop_length=512)).T - mag)
    assert convergence < 0.25 and convergence < conv_8 / np.linalg.norm(mag)
    # Parity with librosa's fast Griffin-Lim at the same settings.
    ref = librosa.griffinlim(mag.T, n_iter=64, hop_length=512, random_state=0, length=len(y))
    ref_conv = np.linalg.norm(np.abs(librosa.stft(ref, hop_length=512)).T - mag)
    assert convergence < 1.25 * ref_conv / np.linalg.norm(mag)


def test_griffin_lim_checks_its_input(clips):
    mag = np.ones((5, 1025), np.float32)
    with pytest.raises(InvalidAudioError, match="bins"):
        inversion.griffin_lim(mag, n_fft=1024)
    with pytest.raises(InvalidAudioError, match="filterbank"):
        inversion.griffin_lim(mag, mel_power=np.ones((5, 128)))
    with pytest.raises(InvalidAudioError, match="shape"):
        inversion.griffin_lim(np.ones(1025))
    bad = mag.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InvalidAudioError):
        inversion.griffin_lim(bad)
