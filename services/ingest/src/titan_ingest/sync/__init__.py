"""Live sync: a one-way pipeline of named stages.

source (live.WebSocketSource | polling.PollingSource)   what the node says, in arrival order
  -> sequencer.Sequencer                                 ordered, deduplicated, reorg-safe
     (backfill.Backfiller, reorg.find_ancestor)          catch-up and rollback over HTTP
  -> state.PoolStore                                     the exact state, undo by block
  -> publish.Hub                                         fan-out to WS /ws/pools
"""
