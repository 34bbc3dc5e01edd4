"""Every label a figure or the gallery shows, in English and Chinese, and the font
that draws the Chinese ones.

Kept apart from the drawing code so a translation can be checked in one place; the
feature descriptions live with the data in `data.py`.
"""

from pathlib import Path

from matplotlib import font_manager

__all__ = ["CAPTIONS", "FIGURE_TEXT", "find_cjk_font", "require_cjk_font"]

# titles, axis labels and legend entries; {fields} are filled in by figures.py
FIGURE_TEXT = {
    "en": {
        "linear": "linear network (13 → 1)",
        "mlp": "MLP (13 → 10 ReLU → 1)",
        "truth": "true price",
        "prediction": "prediction, seed {seed}",
        "band": "range over {n} seeds",
        "price": "price MEDV ($1000s)",
        "test_row": "test row",
        "true_price": "true price ($1000s)",
        "predicted_price": "predicted price ($1000s)",
        "tvp_title": "{model}: true and predicted price of the {n} test rows",
        "scatter_title": "Predicted against true price, {n} test rows (seed {seed})",
        "mse": "test MSE {mse:.2f}",
        "weights_title": "Linear network weights (seed {seed}) and least squares",
        "raw_weight": "weight ($1000s per unit)",
        "std_weight": "weight × train std ($1000s per +1 std)",
        "this_seed": "seed {seed}",
        "all_seeds": "all {n} seeds",
        "lstsq": "least squares, no intercept",
        "lstsq_i": "least squares, with intercept",
        "heatmap_title": "MLP first-layer kernel W0 (seed {seed}), "
        "colour scale symmetric ±{vmax:.2f}",
        "hidden_unit": "hidden unit",
        "weight": "weight",
        "mse_title": "Test MSE of {n} seeds after {epochs} epochs",
        "test_mse": "test MSE ($1000s²)",
        "tutorial": "tutorial, single run",
        "loss_title": "MSE per epoch: mean and min–max band over {n} seeds",
        "epoch": "epoch",
        "mse_log": "MSE ($1000s², log scale)",
        "train": "train (during the epoch)",
        "test": "test (after the epoch)",
        "lstsq_test": "least squares, no intercept, test: {mse:.2f}",
    },
    "zh": {
        "linear": "线性网络 (13 → 1)",
        "mlp": "多层感知机 (13 → 10 ReLU → 1)",
        "truth": "真实房价",
        "prediction": "预测，种子 {seed}",
        "band": "{n} 个种子的范围",
        "price": "房价 MEDV（千美元）",
        "test_row": "测试样本",
        "true_price": "真实房价（千美元）",
        "predicted_price": "预测房价（千美元）",
        "tvp_title": "{model}：{n} 个测试样本的真实与预测房价",
        "scatter_title": "预测房价与真实房价，{n} 个测试样本（种子 {seed}）",
        "mse": "测试 MSE {mse:.2f}",
        "weights_title": "线性网络权重（种子 {seed}）与最小二乘解",
        "raw_weight": "权重（每单位特征，千美元）",
        "std_weight": "权重 × 训练集标准差（千美元）",
        "this_seed": "种子 {seed}",
        "all_seeds": "全部 {n} 个种子",
        "lstsq": "最小二乘（无截距）",
        "lstsq_i": "最小二乘（有截距）",
        "heatmap_title": "多层感知机第一层权重 W0（种子 {seed}），色标对称 ±{vmax:.2f}",
        "hidden_unit": "隐藏单元",
        "weight": "权重",
        "mse_title": "{n} 个种子训练 {epochs} 轮后的测试 MSE",
        "test_mse": "测试 MSE（千美元²）",
        "tutorial": "教程（单次运行）",
        "loss_title": "每轮的 MSE：{n} 个种子的均值与最小–最大范围",
        "epoch": "轮次",
        "mse_log": "MSE（千美元²，对数坐标）",
        "train": "训练集（本轮期间）",
        "test": "测试集（本轮之后）",
        "lstsq_test": "最小二乘（无截距）测试集：{mse:.2f}",
    },
}

# one caption per figure of index.html, keyed by file name without the model suffix,
# and the note on feature B shown above them
CAPTIONS = {
    "en": {
        "truth_vs_prediction": "{model}: true price (black) and prediction of seed "
        "{seed} along the test rows, the tutorial's figure; the band spans all seeds.",
        "prediction_scatter": "Prediction against truth for each test row; points on "
        "the dashed y = x line are exact.",
        "linear_weights": "Linear weights of seed {seed} (bars), of every seed (dots) "
        "and of least squares (diamonds). Right: weight times the feature's train "
        "std, the only scale on which features can be compared.",
        "mlp_first_layer": "The MLP's first-layer kernel W0 of seed {seed}: one row "
        "per feature, one column per hidden unit; red adds, blue subtracts.",
        "test_mse_across_seeds": "Test MSE of every seed (dots, box = quartiles), "
        "the tutorial's single runs (stars) and the least-squares fits (lines).",
        "caveat_b": "Feature B encodes race: it is 1000 (Bk - 0.63)^2, where Bk is the "
        "share of Black residents by town, a racial assumption of the 1978 model. It "
        "is kept only to reproduce the tutorial; --drop B removes it.",
        "loss_curves": "Train MSE averaged over each epoch's minibatches, what Keras "
        "reports as loss (solid), and test MSE after each epoch (dashed): mean over "
        "seeds with the min-max band, log scale.",
    },
    "zh": {
        "truth_vs_prediction": "{model}：测试样本的真实房价（黑）与种子 {seed} "
        "的预测，即教程中的图；阴影为全部种子的范围。",
        "prediction_scatter": "每个测试样本的预测与真实值；"
        "落在虚线 y = x 上即完全准确。",
        "linear_weights": "种子 {seed} 的线性权重（柱）、全部种子（点）"
        "与最小二乘解（菱形）。右：权重乘以训练集标准差，"
        "只有在这个尺度上特征之间才可比较。",
        "mlp_first_layer": "种子 {seed} 的多层感知机第一层权重 W0：每行一个特征，"
        "每列一个隐藏单元；红色为正，蓝色为负。",
        "test_mse_across_seeds": "每个种子的测试 MSE（点，箱体为四分位），"
        "教程的单次结果（星）与最小二乘（线）。",
        "caveat_b": "特征 B 编码了种族：它等于 1000 (Bk - 0.63)^2，"
        "Bk 为城镇黑人居民比例，是 1978 年模型中的种族假设。"
        "保留它只为复现教程；--drop B 可去掉它。",
        "loss_curves": "训练集 MSE 为每轮各小批量的平均（即 Keras 的 loss，实线），"
        "测试集 MSE 在每轮之后计算（虚线）：种子均值与最小–最大范围，对数坐标。",
    },
}

# families tried in order; any one of them draws Chinese labels
_CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei",
    "PingFang SC", "Noto Sans SC",
)  # fmt: skip


def find_cjk_font() -> str | None:
    """Name of an installed font family that can draw Chinese, or None."""
    for attempt in range(2):
        names = {entry.name for entry in font_manager.fontManager.ttflist}
        for family in _CJK_FAMILIES:
            if family in names:
                return family
        if attempt == 0:
            # fonts installed after matplotlib built its font cache are not in it yet
            for path in font_manager.findSystemFonts():
                name = Path(path).name.lower()
                if "cjk" in name or "wqy" in name or "sourcehan" in name:
                    font_manager.fontManager.addfont(path)
    return None


def require_cjk_font() -> str:
    """The CJK font family to use; ValueError naming a package if none is installed."""
    family = find_cjk_font()
    if family is None:
        raise ValueError(
            "--lang zh: no font that can draw Chinese is installed; install one, "
            "e.g. Debian/Ubuntu's fonts-noto-cjk (apt-get install fonts-noto-cjk)"
        )
    return family
