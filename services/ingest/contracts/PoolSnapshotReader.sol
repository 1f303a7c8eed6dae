// SPDX-License-Identifier: MIT
// Read-only helper for ingest's snapshot: never deployed, run through eth_call with a code
// override. It calls the pools' own view functions at the block of the call, so its answer is
// exactly what the per-function JSON-RPC batches would read, in one call per pool chunk.
pragma solidity 0.8.28;

interface IUniswapV2PairReserves {
    function getReserves() external view returns (uint112, uint112, uint32);
}

interface IUniswapV3PoolState {
    function slot0() external view returns (uint160, int24, uint16, uint16, uint16, uint8, bool);
    function liquidity() external view returns (uint128);
    function fee() external view returns (uint24);
    function tickSpacing() external view returns (int24);
    function tickBitmap(int16 wordPosition) external view returns (uint256);
    function ticks(int24 tick)
        external
        view
        returns (uint128, int128, uint256, uint256, int56, uint160, uint32, bool);
}

contract PoolSnapshotReader {
    /// Reserves of each pair: [reserve0, reserve1, reserve0, reserve1, ...].
    function v2Reserves(address[] calldata pairs) external view returns (uint256[] memory out) {
        out = new uint256[](pairs.length * 2);
        for (uint256 i = 0; i < pairs.length; i++) {
            (uint112 r0, uint112 r1, ) = IUniswapV2PairReserves(pairs[i]).getReserves();
            out[2 * i] = r0;
            out[2 * i + 1] = r1;
        }
    }

    /// A V3 pool's state and its initialized ticks in bitmap words [wordFrom, wordTo].
    function v3State(address pool, int256 wordFrom, int256 wordTo)
        external
        view
        returns (
            uint160 sqrtPriceX96,
            int24 tick,
            uint128 liquidity,
            uint24 fee,
            int24 tickSpacing,
            int24[] memory tickIndexes,
            uint128[] memory liquidityGross,
            int128[] memory liquidityNet
        )
    {
        IUniswapV3PoolState p = IUniswapV3PoolState(pool);
        (sqrtPriceX96, tick, , , , , ) = p.slot0();
        liquidity = p.liquidity();
        fee = p.fee();
        tickSpacing = p.tickSpacing();
        uint256 span = uint256(wordTo - wordFrom + 1);
        uint256[] memory words = new uint256[](span);
        uint256 count = 0;
        for (uint256 i = 0; i < span; i++) {
            uint256 word = p.tickBitmap(int16(wordFrom + int256(i)));
            words[i] = word;
            while (word != 0) {
                word &= word - 1;
                count++;
            }
        }
        tickIndexes = new int24[](count);
        liquidityGross = new uint128[](count);
        liquidityNet = new int128[](count);
        uint256 n = 0;
        for (uint256 i = 0; i < span; i++) {
            uint256 word = words[i];
            for (uint256 bit = 0; word != 0; bit++) {
                if (word & 1 == 1) {
                    int24 index = int24((wordFrom + int256(i)) * 256 + int256(bit)) * tickSpacing;
                    (uint128 gross, int128 net, , , , , , ) = p.ticks(index);
                    tickIndexes[n] = index;
                    liquidityGross[n] = gross;
                    liquidityNet[n] = net;
                    n++;
                }
                word >>= 1;
            }
        }
    }
}
