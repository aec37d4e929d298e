"""Keras layers of keras-musiclatent, one public layer per module."""

from keras_musiclatent.layers.attention_pooling import AttentionPooling
from keras_musiclatent.layers.band_normalization import BandNormalization
from keras_musiclatent.layers.deterministic_bottleneck import DeterministicBottleneck
from keras_musiclatent.layers.frame_mask import FrameMask
from keras_musiclatent.layers.gaussian_sampling import GaussianSampling
from keras_musiclatent.layers.log_mel_spectrogram import LogMelSpectrogram, mel_filterbank
from keras_musiclatent.layers.musicnn_log_mel import MusicnnLogMel
from keras_musiclatent.layers.resample import Resample
from keras_musiclatent.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_musiclatent.layers.transformer_block import TransformerBlock

__all__ = [
    "AttentionPooling",
    "BandNormalization",
    "DeterministicBottleneck",
    "FrameMask",
    "GaussianSampling",
    "LogMelSpectrogram",
    "MusicnnLogMel",
    "Resample",
    "SinusoidalPositionEncoding",
    "TransformerBlock",
    "mel_filterbank",
]
