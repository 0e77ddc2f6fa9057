"""raytrec's own components, registered through the ``raytrec`` entry-point group."""

from __future__ import annotations

from raytrec.hookspecs import Register, hookimpl


@hookimpl
def register_tasks(register: Register) -> None:
    from raytrec.tasks.user_item import UserItemTask

    register("user-item", UserItemTask)


@hookimpl
def register_samplers(register: Register) -> None:
    from raytrec.samplers.hard import HardSampler
    from raytrec.samplers.in_batch import InBatchSampler
    from raytrec.samplers.mixed import MixedSampler
    from raytrec.samplers.popularity import PopularitySampler
    from raytrec.samplers.uniform import UniformSampler

    register("uniform", UniformSampler)
    register("popularity", PopularitySampler)
    register("in-batch", InBatchSampler)
    register("mixed", MixedSampler)
    register("hard", HardSampler)


@hookimpl
def register_mappers(register: Register) -> None:
    from raytrec.mappers.embedding import EmbeddingMapper
    from raytrec.mappers.feature_mlp import FeatureMLPMapper
    from raytrec.mappers.two_tower import TwoTowerMapper

    register("embedding", EmbeddingMapper)
    register("feature-mlp", FeatureMLPMapper)
    register("two-tower", TwoTowerMapper)


@hookimpl
def register_losses(register: Register) -> None:
    from raytrec.losses.bpr import BPRLoss
    from raytrec.losses.bpr_max import BPRMaxLoss
    from raytrec.losses.cml import CMLLoss
    from raytrec.losses.infonce import InfoNCELoss
    from raytrec.losses.mse import MSELoss
    from raytrec.losses.top1 import TOP1Loss
    from raytrec.losses.top1_max import TOP1MaxLoss
    from raytrec.losses.triplet import TripletLoss
    from raytrec.losses.warp import WARPLoss

    register("bpr", BPRLoss)
    register("bpr-max", BPRMaxLoss)
    register("cml", CMLLoss)
    register("infonce", InfoNCELoss)
    register("mse", MSELoss)
    register("top1", TOP1Loss)
    register("top1-max", TOP1MaxLoss)
    register("triplet", TripletLoss)
    register("warp", WARPLoss)


@hookimpl
def register_retrievers(register: Register) -> None:
    from raytrec.retrievers.faiss_flat import FaissFlatRetriever
    from raytrec.retrievers.faiss_hnsw import FaissHnswRetriever
    from raytrec.retrievers.faiss_ivf import FaissIvfRetriever
    from raytrec.retrievers.faiss_lsh import FaissLshRetriever
    from raytrec.retrievers.torch_exact import TorchExactRetriever

    register("faiss-flat", FaissFlatRetriever)
    register("faiss-hnsw", FaissHnswRetriever)
    register("faiss-ivf", FaissIvfRetriever)
    register("faiss-lsh", FaissLshRetriever)
    register("torch-exact", TorchExactRetriever)


@hookimpl
def register_datasets(register: Register) -> None:
    from raytrec.data.citeulike import CiteULike
    from raytrec.data.delimited import CsvDataset
    from raytrec.data.movielens import MovieLens100K
    from raytrec.data.synthetic import SyntheticDataset
    from raytrec.data.tabular import ParquetDataset

    register("movielens-100k", MovieLens100K)
    register("citeulike", CiteULike)
    register("csv", CsvDataset)
    register("parquet", ParquetDataset)
    register("synthetic", SyntheticDataset)
