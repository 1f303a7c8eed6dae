// SPDX-License-Identifier: MIT
// Titan's arbitrage executor: performs a list of V2/V3 hops atomically from the caller's
// balance and reverts unless the final amount reaches a minimum. The scanner `eth_call`s it
// to prove an opportunity at the block it was found; paper trading sends it for real.
pragma solidity 0.8.28;

interface IERC20Minimal {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

interface IV2Pair {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function getReserves() external view returns (uint112, uint112, uint32);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

interface IV3Pool {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function swap(
        address recipient,
        bool zeroForOne,
        int256 amountSpecified,
        uint160 sqrtPriceLimitX96,
        bytes calldata data
    ) external returns (int256 amount0, int256 amount1);
}

contract TitanArbExecutor {
    struct Hop {
        address pool;
        uint8 kind; // 0 = Uniswap V2 pair, 1 = Uniswap V3 pool
        bool zeroForOne;
        uint16 feeBps; // V2 only
    }

    uint160 private constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 private constant MAX_SQRT_RATIO_MINUS_ONE =
        1461446703485210103287273052203988822378723970341;

    // The V3 pool being swapped right now: the only caller its callback pays.
    address private activePool;

    error InsufficientOutput(uint256 amountOut, uint256 minAmountOut);
    error UnknownHopKind(uint8 kind);
    error UnexpectedCallback(address caller);

    function execute(Hop[] calldata hops, uint256 amountIn, uint256 minAmountOut)
        external
        returns (uint256[] memory amounts)
    {
        amounts = new uint256[](hops.length + 1);
        amounts[0] = amountIn;
        address tokenIn = _tokenIn(hops[0]);
        require(IERC20Minimal(tokenIn).transferFrom(msg.sender, address(this), amountIn), "pull");
        for (uint256 i = 0; i < hops.length; i++) {
            amounts[i + 1] = _swap(hops[i], amounts[i]);
        }
        uint256 amountOut = amounts[hops.length];
        if (amountOut < minAmountOut) revert InsufficientOutput(amountOut, minAmountOut);
        require(IERC20Minimal(_tokenOut(hops[hops.length - 1])).transfer(msg.sender, amountOut), "push");
    }

    function _swap(Hop calldata hop, uint256 amountIn) private returns (uint256 amountOut) {
        if (hop.kind == 0) return _swapV2(hop, amountIn);
        if (hop.kind == 1) return _swapV3(hop, amountIn);
        revert UnknownHopKind(hop.kind);
    }

    function _swapV2(Hop calldata hop, uint256 amountIn) private returns (uint256 amountOut) {
        IV2Pair pair = IV2Pair(hop.pool);
        (uint112 reserve0, uint112 reserve1,) = pair.getReserves();
        (uint256 reserveIn, uint256 reserveOut) =
            hop.zeroForOne ? (uint256(reserve0), uint256(reserve1)) : (uint256(reserve1), uint256(reserve0));
        uint256 amountInWithFee = amountIn * (10000 - hop.feeBps);
        amountOut = (amountInWithFee * reserveOut) / (reserveIn * 10000 + amountInWithFee);
        require(IERC20Minimal(_tokenIn(hop)).transfer(hop.pool, amountIn), "v2 pay");
        (uint256 out0, uint256 out1) = hop.zeroForOne ? (uint256(0), amountOut) : (amountOut, uint256(0));
        pair.swap(out0, out1, address(this), "");
    }

    function _swapV3(Hop calldata hop, uint256 amountIn) private returns (uint256 amountOut) {
        activePool = hop.pool;
        uint160 limit = hop.zeroForOne ? MIN_SQRT_RATIO_PLUS_ONE : MAX_SQRT_RATIO_MINUS_ONE;
        (int256 amount0, int256 amount1) = IV3Pool(hop.pool).swap(
            address(this), hop.zeroForOne, int256(amountIn), limit, abi.encode(_tokenIn(hop))
        );
        activePool = address(0);
        amountOut = uint256(-(hop.zeroForOne ? amount1 : amount0));
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data)
        external
    {
        if (msg.sender != activePool || activePool == address(0)) revert UnexpectedCallback(msg.sender);
        address tokenIn = abi.decode(data, (address));
        uint256 owed = uint256(amount0Delta > 0 ? amount0Delta : amount1Delta);
        require(IERC20Minimal(tokenIn).transfer(msg.sender, owed), "v3 pay");
    }

    function _tokenIn(Hop calldata hop) private view returns (address) {
        return hop.zeroForOne ? IV2Pair(hop.pool).token0() : IV2Pair(hop.pool).token1();
    }

    function _tokenOut(Hop calldata hop) private view returns (address) {
        return hop.zeroForOne ? IV2Pair(hop.pool).token1() : IV2Pair(hop.pool).token0();
    }
}
