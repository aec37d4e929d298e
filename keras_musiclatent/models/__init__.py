"""Models of keras-musiclatent: encoders, decoder, and the waveform → latent → log-mel models."""

from keras_musiclatent.models.attention_encoder import AttentionEncoder
from keras_musiclatent.models.autoencoder import MusicAutoencoder
from keras_musiclatent.models.crnn_encoder import CRNNEncoder
from keras_musiclatent.models.latent_model import LatentAudioModel
from keras_musiclatent.models.losses import active_units
from keras_musiclatent.models.mel_decoder import MelDecoder
from keras_musiclatent.models.music_vae import MusicVAE
from keras_musiclatent.models.musicnn import MSD_TAGS, MusicnnBackbone
from keras_musiclatent.models.pca_init import initialize_from_pca
from keras_musiclatent.models.time_encoder import TimeLatentEncoder

__all__ = [
    "MSD_TAGS",
    "AttentionEncoder",
    "CRNNEncoder",
    "LatentAudioModel",
    "MelDecoder",
    "MusicAutoencoder",
    "MusicVAE",
    "MusicnnBackbone",
    "TimeLatentEncoder",
    "active_units",
    "initialize_from_pca",
]
