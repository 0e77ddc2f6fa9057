"""raytrec plugin template: one component of each kind, registered under ``template-*``."""

from __future__ import annotations

import raytrec
from raytrec.api import Register
from raytrec_plugin_template.dataset import JsonLinesDataset
from raytrec_plugin_template.loss import SquaredHingeLoss
from raytrec_plugin_template.mapper import ItemBiasMapper
from raytrec_plugin_template.retriever import NumpyExactRetriever
from raytrec_plugin_template.sampler import InversePopularitySampler
from raytrec_plugin_template.task import NextItemTask


@raytrec.hookimpl
def register_losses(register: Register) -> None:
    register("template-squared-hinge", SquaredHingeLoss)


@raytrec.hookimpl
def register_samplers(register: Register) -> None:
    register("template-inverse-popularity", InversePopularitySampler)


@raytrec.hookimpl
def register_mappers(register: Register) -> None:
    register("template-item-bias", ItemBiasMapper)


@raytrec.hookimpl
def register_retrievers(register: Register) -> None:
    register("template-numpy-exact", NumpyExactRetriever)


@raytrec.hookimpl
def register_datasets(register: Register) -> None:
    register("template-jsonl", JsonLinesDataset)


@raytrec.hookimpl
def register_tasks(register: Register) -> None:
    register("template-next-item", NextItemTask)
